import sqlite3 from 'sqlite3';
import type { DatabaseConfig } from '../config.js';
import { createBatcher } from '../lib/batcher.js';
import { isSqliteFile, type Db } from './db.js';
import { dialectOf, rawQuery, sqliteStatements, type RawStatements } from './raw-sql.js';
import { tokensWithGrantsSqlite, tokenWithGrant, TOKENS_WITH_GRANTS_PG, type RefreshTokenWithGrant } from './refresh-tokens.js';
import { codeWithGrant, CODE_WITH_GRANT, type CodeWithGrant } from './authorization-codes.js';

/**
 * The refresh grant's one read (a refresh token with its grant), and the authorization_code
 * grant's (a code with its grant), kept off the writer's path.
 *
 * On a SQLite file it runs on connections of its own, opened read-only beside knex's one writer:
 * in WAL mode a reader never waits for the writer's transaction, so a refresh does not queue its
 * read behind the group commit in flight (issue #14 item 2), and it sees every committed write, as a
 * PostgreSQL pool connection does. Each connection keeps its statements prepared, so a read is one
 * trip to the thread pool (knex makes three: prepare, run, finalize, each waiting for the event
 * loop). On PostgreSQL (a pool already) the reads run on a connection of `db`'s pool; on an
 * in-memory SQLite database (its own per connection) on the pool's one connection. Everywhere the
 * refresh grant's reads asked for while others are in flight go together as one statement
 * (groupedTokenReads). All go through the driver (raw-sql.ts).
 */
export interface HotReads {
  refreshTokenWithGrant(tokenHash: string): Promise<RefreshTokenWithGrant | undefined>;
  /** The authorization_code grant's one read (a code, its grant, its person), the same way, one statement each. */
  codeWithGrant(codeHash: string): Promise<CodeWithGrant | undefined>;
  close(): Promise<void>;
}

/** Read-only connections beside the writer: two, for the machine's cores to share. */
const READERS = 2;

export function openHotReads(database: DatabaseConfig, db: Db): HotReads {
  const onPool = (sql: string, params: readonly unknown[]) => rawQuery(db, sql, params);
  if (dialectOf(db) === 'pg') {
    return {
      refreshTokenWithGrant: groupedTokenReads(onPool, PG_READS_IN_FLIGHT, pgTokenReads),
      codeWithGrant: readOne(onPool, CODE_WITH_GRANT, codeWithGrant),
      close: async () => undefined,
    };
  }
  if (!isSqliteFile(database)) {
    return {
      refreshTokenWithGrant: groupedTokenReads(onPool, 1, sqliteTokenReads),
      codeWithGrant: readOne(onPool, CODE_WITH_GRANT, codeWithGrant),
      close: async () => undefined,
    };
  }
  const readers = Array.from({ length: READERS }, () => preparedReader(database.filename));
  let next = 0;
  const onReader: RawStatements['all'] = (sql, params) => {
    const reader = readers[next];
    next = (next + 1) % readers.length;
    return reader.all(sql, params);
  };
  return {
    refreshTokenWithGrant: groupedTokenReads(onReader, READERS, sqliteTokenReads),
    codeWithGrant: readOne(onReader, CODE_WITH_GRANT, codeWithGrant),
    async close() {
      await Promise.all(readers.map((r) => r.close()));
    },
  };
}

/** A read of at most one row by its key (`sql`'s one placeholder) on `all`, typed by `typed`. */
function readOne<T>(all: RawStatements['all'], sql: string, typed: (row: Record<string, unknown>) => T): (key: string) => Promise<T | undefined> {
  return async (key) => {
    const [row] = await all(sql, [key]);
    return row ? typed(row) : undefined;
  };
}

interface PreparedReader extends RawStatements {
  close(): Promise<void>;
}

/**
 * One read-only connection, opened at its first read, its statements kept prepared as the writer's
 * are (raw-sql.ts: the same mechanism, finalized when the connection closes).
 */
function preparedReader(filename: string): PreparedReader {
  let opened: Promise<{ conn: sqlite3.Database; statements: RawStatements }> | undefined;
  const open = () =>
    new Promise<{ conn: sqlite3.Database; statements: RawStatements }>((resolve, reject) => {
      const conn = new sqlite3.Database(filename, sqlite3.OPEN_READONLY, (err) => {
        if (err) return reject(err);
        conn.configure('busyTimeout', 5000);
        resolve({ conn, statements: sqliteStatements(conn) });
      });
    });
  return {
    async all(sql, params) {
      opened ??= open().catch((err) => {
        opened = undefined;
        throw err;
      });
      // all(), not get(): run to the end, the statement lets go of its read snapshot, so a reader
      // idle after its last read never holds the WAL back from a checkpoint.
      return (await opened).statements.all(sql, params);
    },
    async close() {
      if (!opened) return;
      const conn = await opened.then(({ conn }) => conn).catch(() => undefined);
      if (conn) await new Promise<void>((resolve) => conn.close(() => resolve()));
    },
  };
}

/** Grouped reads in flight at once on PostgreSQL, at most: with the 4 rotations (rotate-refresh-tokens.ts), under the pool's 10. */
const PG_READS_IN_FLIGHT = 2;
/**
 * Tokens per grouped read, at most. On SQLite each count is a statement of its own, kept prepared
 * on each reader (raw-sql.ts keeps up to 256 per connection).
 */
const READ_BATCH = 64;

/** The statement that reads the tokens of these hashes with their grants, in any order. */
type TokenReads = (hashes: string[]) => { sql: string; params: unknown[] };
const pgTokenReads: TokenReads = (hashes) => ({ sql: TOKENS_WITH_GRANTS_PG, params: [hashes] });
const sqliteTokenReads: TokenReads = (hashes) => ({ sql: tokensWithGrantsSqlite(hashes.length), params: hashes });

/**
 * The refresh grant's reads asked for while others are in flight go together as one statement
 * (lib/batcher.ts, as the group commit): a busy server makes one trip to the database — on SQLite
 * one job on the thread pool, which the signatures share, instead of one per refresh — and the
 * database does one statement's work for many refreshes; an idle one reads each at once.
 */
function groupedTokenReads(all: RawStatements['all'], inFlightAtMost: number, statement: TokenReads): HotReads['refreshTokenWithGrant'] {
  const reads = createBatcher<string, RefreshTokenWithGrant | undefined>({
    inFlightAtMost,
    maxBatch: READ_BATCH,
    async run(hashes) {
      const { sql, params } = statement(hashes);
      const found = new Map<string, RefreshTokenWithGrant>();
      for (const row of await all(sql, params)) {
        const read = tokenWithGrant(row);
        found.set(read.token.tokenHash, read);
      }
      return hashes.map((hash) => found.get(hash));
    },
  });
  return (tokenHash) => reads.run(tokenHash);
}

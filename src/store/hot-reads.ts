import sqlite3 from 'sqlite3';
import type { DatabaseConfig } from '../config.js';
import { isSqliteFile, type Db } from './db.js';
import { rawQuery } from './raw-sql.js';
import { tokenWithGrant, TOKEN_WITH_GRANT, type RefreshTokenWithGrant } from './refresh-tokens.js';

/**
 * The refresh grant's one read (a refresh token with its grant), kept off the writer's path.
 *
 * On a SQLite file it runs on connections of its own, opened read-only beside knex's one writer:
 * in WAL mode a reader never waits for the writer's transaction, so a refresh does not queue its
 * read behind the group commit in flight (issue #14 item 2), and it sees every committed write, as a
 * PostgreSQL pool connection does. Each connection keeps the statement prepared, so a read is one
 * trip to the thread pool (knex makes three: prepare, run, finalize, each waiting for the event
 * loop). On PostgreSQL (a pool already) and an in-memory SQLite database (its own per connection)
 * it is the same query on a connection of `db`'s pool, through the driver (raw-sql.ts), prepared
 * once per connection on PostgreSQL.
 */
export interface HotReads {
  refreshTokenWithGrant(tokenHash: string): Promise<RefreshTokenWithGrant | undefined>;
  close(): Promise<void>;
}

/** Read-only connections beside the writer: two, for the machine's cores to share. */
const READERS = 2;

export function openHotReads(database: DatabaseConfig, db: Db): HotReads {
  if (!isSqliteFile(database)) {
    return {
      async refreshTokenWithGrant(tokenHash) {
        const [row] = await rawQuery(db, TOKEN_WITH_GRANT, [tokenHash]);
        return row ? tokenWithGrant(row) : undefined;
      },
      close: async () => undefined,
    };
  }
  const readers = Array.from({ length: READERS }, () => preparedReader(database.filename, TOKEN_WITH_GRANT));
  let next = 0;
  return {
    async refreshTokenWithGrant(tokenHash) {
      const reader = readers[next];
      next = (next + 1) % readers.length;
      const [row] = await reader.all([tokenHash]);
      return row ? tokenWithGrant(row) : undefined;
    },
    async close() {
      await Promise.all(readers.map((r) => r.close()));
    },
  };
}

interface PreparedReader {
  all(params: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** One read-only connection with `sql` prepared, opened at its first read. */
function preparedReader(filename: string, sql: string): PreparedReader {
  let opened: Promise<{ conn: sqlite3.Database; stmt: sqlite3.Statement }> | undefined;
  const open = () =>
    new Promise<{ conn: sqlite3.Database; stmt: sqlite3.Statement }>((resolve, reject) => {
      const conn = new sqlite3.Database(filename, sqlite3.OPEN_READONLY, (err) => {
        if (err) return reject(err);
        conn.configure('busyTimeout', 5000);
        const stmt = conn.prepare(sql, (prepareErr) => (prepareErr ? reject(prepareErr) : resolve({ conn, stmt })));
      });
    });
  return {
    async all(params) {
      opened ??= open().catch((err) => {
        opened = undefined;
        throw err;
      });
      const { stmt } = await opened;
      // all(), not get(): run to the end, the statement lets go of its read snapshot, so a reader
      // idle after its last read never holds the WAL back from a checkpoint.
      return new Promise((resolve, reject) => stmt.all(params, (err: Error | null, rows: Array<Record<string, unknown>>) => (err ? reject(err) : resolve(rows))));
    },
    async close() {
      if (!opened) return;
      const { conn, stmt } = await opened.catch(() => ({ conn: undefined, stmt: undefined }));
      if (!conn || !stmt) return;
      await new Promise<void>((resolve) => stmt.finalize(() => conn.close(() => resolve())));
    },
  };
}

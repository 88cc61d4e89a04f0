import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config.js';
import { migrationSource } from './migrations.js';

export type Db = Knex;

/**
 * knex's own messages (a connection not had in time, a deprecation) as lines of the app's log, JSON
 * like every other line, rather than text on the console.
 */
function knexLog(logger: Pick<Logger, 'warn' | 'error' | 'debug'>): Knex.Config['log'] {
  const text = (message: unknown) => (message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message));
  return {
    warn: (message: unknown) => logger.warn({ source: 'knex' }, text(message)),
    error: (message: unknown) => logger.error({ source: 'knex' }, text(message)),
    deprecate: (method: string, alternative: string) => logger.warn({ source: 'knex' }, `${method} is deprecated: use ${alternative}`),
    debug: (message: unknown) => logger.debug({ source: 'knex' }, text(message)),
  };
}

/**
 * Opens the database named by the configuration (SQLite file or memory, or PostgreSQL); knex's own
 * messages go to `logger` when one is given.
 */
export function openDb(database: DatabaseConfig, logger?: Pick<Logger, 'warn' | 'error' | 'debug'>): Db {
  const log = logger ? { log: knexLog(logger) } : {};
  if (database.client === 'pg') {
    return knexFactory({
      ...log,
      client: 'pg',
      connection: database.connectionString,
      pool: {
        min: 0,
        max: 10,
        // Prepared statements (store/raw-sql.ts names the hot ones) are planned at each run with the
        // tables as they are then, never with a plan cached while a table was small: on a new
        // database, before autovacuum's first ANALYZE, a cached plan scanned the whole table for the
        // refresh grant's read (issue #14 item 2). Parsed once all the same; knex's own are unnamed.
        afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
          conn.query('SET plan_cache_mode = force_custom_plan', (err) => done(err, conn));
        },
      },
    });
  }
  if (database.filename !== ':memory:') fs.mkdirSync(path.dirname(database.filename), { recursive: true });
  // One connection: SQLite serialises writers anyway, and each :memory: connection would be its own
  // empty database.
  return openSqlite(database.filename, log);
}

/** A knex pool of one SQLite connection, in WAL mode, waiting up to 5 s for another writer. */
function openSqlite(filename: string, log: Pick<Knex.Config, 'log'> = {}): Db {
  return knexFactory({
    ...log,
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        const pragmas = ['PRAGMA journal_mode = WAL', 'PRAGMA busy_timeout = 5000', 'PRAGMA synchronous = NORMAL'];
        const next = (i: number): void => {
          if (i === pragmas.length) return done(null, conn);
          conn.run(pragmas[i], (err) => (err ? done(err, conn) : next(i + 1)));
        };
        next(0);
      },
    },
  });
}

/** Whether the database is a SQLite file: one that other connections of this process can share. */
export function isSqliteFile(database: DatabaseConfig): database is Extract<DatabaseConfig, { client: 'sqlite' }> {
  return database.client !== 'pg' && database.filename !== ':memory:';
}

/** Brings the schema to the newest migration. Safe to run from several instances at once. */
export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** How often a SQLite file's WAL is checkpointed, off the commit path (see startWalCheckpoints). */
export const WAL_CHECKPOINT_MS = 1000;

/**
 * On a SQLite file, moves the WAL checkpoint off the writer: SQLite's automatic checkpoint runs in
 * the COMMIT that crosses 1,000 pages, copying them into the database and syncing it there, which
 * stalled that commit — and every refresh rotation waiting on it — for ~20 ms about once in a
 * hundred group commits (the p99 of issue #14 item 2). Instead the writer never checkpoints and a
 * connection of its own runs a PASSIVE checkpoint every WAL_CHECKPOINT_MS: it never blocks the
 * writer nor a reader, and pages written many times between two checkpoints are copied once.
 * Returns a stop function; a no-op for PostgreSQL and an in-memory database.
 */
export async function startWalCheckpoints(database: DatabaseConfig, db: Db): Promise<() => Promise<void>> {
  if (!isSqliteFile(database)) return async () => undefined;
  const checkpointer = openSqlite(database.filename);
  try {
    await checkpointer.raw('PRAGMA wal_checkpoint(PASSIVE)');
  } catch (err) {
    await checkpointer.destroy();
    throw err;
  }
  // Only once the checkpointer works: the writer (knex's one pooled connection) stops checkpointing.
  await db.raw('PRAGMA wal_autocheckpoint = 0');
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    // A checkpoint that fails (the database busy beyond busy_timeout) is simply tried again next time.
    running ??= checkpointer.raw('PRAGMA wal_checkpoint(PASSIVE)').catch(() => undefined).finally(() => (running = undefined));
  }, WAL_CHECKPOINT_MS).unref();
  return async () => {
    clearInterval(timer);
    await running;
    await checkpointer.destroy();
  };
}

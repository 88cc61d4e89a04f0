import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** Statements run on the one connection a raw transaction holds. */
export interface RawStatements {
  /** Runs `sql` (placeholders `?`) with `params`; answers its rows (of a SELECT or a RETURNING). */
  all(sql: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
}

/** The calls of a sqlite3 connection this module uses (sqlite3's Database). */
export interface SqliteConnection {
  exec(sql: string, cb: (err: Error | null) => void): void;
  prepare(sql: string, cb: (err: Error | null) => void): SqliteStatement;
  close(cb?: (err: Error | null) => void): void;
}
interface SqliteStatement {
  all(params: readonly unknown[], cb: (err: Error | null, rows: Array<Record<string, unknown>>) => void): void;
  finalize(cb: () => void): void;
}
interface PgConnection {
  query(text: string | { name: string; text: string; values: readonly unknown[] }, values?: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}
/** The part of knex's client this module uses: its pool, and which driver it holds. */
interface PooledClient {
  config: { client: string };
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

/**
 * Runs `work` in one transaction on a connection taken from knex's pool, through the driver itself
 * (sqlite3's or pg's calls) rather than knex's transaction object and query builder. For the hottest
 * write, the refresh rotations' group commit, knex cost more than the statements: ~1.4 ms of CPU per
 * transaction on SQLite (a whole knex instance per transaction, and its runner per query) against
 * ~0.7 ms for BEGIN, the statements and COMMIT themselves (issue #14 item 2). The connection is the
 * pool's, so on SQLite the transaction still runs on the one writer, in turn with everything else.
 * Commits when `work` resolves; rolls back and rethrows when it throws.
 */
export async function rawTransaction<T>(db: Knex, work: (statements: RawStatements) => Promise<T>): Promise<T> {
  const client = db.client as unknown as PooledClient;
  const conn = await client.acquireConnection();
  try {
    if (dialectOf(db) === 'pg') return await inPg(conn as PgConnection, work);
    return await inSqlite(conn as SqliteConnection, work);
  } finally {
    await client.releaseConnection(conn);
  }
}

/** Which driver `db` holds. */
export function dialectOf(db: Knex): 'pg' | 'sqlite' {
  return (db.client as unknown as PooledClient).config.client === 'pg' ? 'pg' : 'sqlite';
}

/**
 * Statements each run on its own, outside any transaction (each its own transaction), through the
 * driver as rawQuery runs them: for a write that is one statement.
 */
export function autocommitStatements(db: Knex): RawStatements {
  return { all: (sql, params) => rawQuery(db, sql, params) };
}

/**
 * One statement through the driver on a pooled connection, outside any transaction, as a raw
 * transaction's statements run: knex's builder and runner cost the refresh grant's read more
 * main-thread time than the query itself (issue #14 item 2).
 */
export async function rawQuery(db: Knex, sql: string, params: readonly unknown[]): Promise<Array<Record<string, unknown>>> {
  const client = db.client as unknown as PooledClient;
  const conn = await client.acquireConnection();
  try {
    const run = dialectOf(db) === 'pg' ? pgStatement(conn as PgConnection) : sqliteStatement(conn as SqliteConnection);
    return await run(sql, params);
  } finally {
    await client.releaseConnection(conn);
  }
}

async function inSqlite<T>(conn: SqliteConnection, work: (statements: RawStatements) => Promise<T>): Promise<T> {
  const exec = (sql: string) => new Promise<void>((resolve, reject) => conn.exec(sql, (err) => (err ? reject(err) : resolve())));
  // IMMEDIATE: the write lock first (waiting out busy_timeout for another process's writer), so the
  // transaction never has to upgrade a read lock, which SQLite may refuse at once.
  await exec('BEGIN IMMEDIATE');
  try {
    const result = await work({ all: sqliteStatement(conn) });
    await exec('COMMIT');
    return result;
  } catch (err) {
    await exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function inPg<T>(conn: PgConnection, work: (statements: RawStatements) => Promise<T>): Promise<T> {
  await conn.query('BEGIN');
  try {
    const result = await work({ all: pgStatement(conn) });
    await conn.query('COMMIT');
    return result;
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Statements on a SQLite connection of one's own (the refresh grant's read-only readers,
 * store/hot-reads.ts), kept prepared as on the pool's: closing the connection finalizes them first.
 */
export function sqliteStatements(conn: SqliteConnection): RawStatements {
  return { all: sqliteStatement(conn) };
}

/**
 * Runs statements on a SQLite connection (sqlite3's own calls), each kept prepared on it: sqlite3
 * prepares a statement given as text on the thread pool, then runs it there, two trips each waiting
 * for a free thread and then for the event loop. Prepared once, a statement is one trip: the group
 * commit's statement is the same text for every batch of the same size, and the refresh grant's read
 * one text (issue #14 item 2).
 */
function sqliteStatement(conn: SqliteConnection): RawStatements['all'] {
  return async (sql, params) => {
    const kept = keptOn(conn);
    const once = !kept.has(sql) && kept.size >= PREPARED_AT_MOST;
    const statement = once ? prepare(conn, sql) : kept.get(sql) ?? remember(kept, sql, prepare(conn, sql));
    const made = await statement;
    try {
      return await new Promise((resolve, reject) => made.all(params, (err, rows) => (err ? reject(err) : resolve(rows))));
    } finally {
      if (once) await finalize(made);
    }
  };
}

/** Texts kept prepared per connection, at most (beyond, a text is prepared for one run); the hot ones are one per batch size, at most 100. */
const PREPARED_AT_MOST = 256;
const preparedStatements = new WeakMap<SqliteConnection, Map<string, Promise<SqliteStatement>>>();

/**
 * The statements kept prepared on `conn`. SQLite refuses to close a connection with statements still
 * prepared, so the connection's close (knex's, when the pool ends) first finalizes them.
 */
function keptOn(conn: SqliteConnection): Map<string, Promise<SqliteStatement>> {
  let kept = preparedStatements.get(conn);
  if (kept) return kept;
  const statements = (kept = new Map<string, Promise<SqliteStatement>>());
  preparedStatements.set(conn, statements);
  const close = conn.close.bind(conn);
  conn.close = (cb) => {
    const all = [...statements.values()];
    statements.clear();
    void Promise.allSettled(all.map(async (p) => finalize(await p))).then(() => close(cb));
  };
  return kept;
}

/** Keeps a statement being prepared; one that fails to prepare is forgotten. */
function remember(kept: Map<string, Promise<SqliteStatement>>, sql: string, statement: Promise<SqliteStatement>): Promise<SqliteStatement> {
  kept.set(sql, statement);
  statement.catch(() => kept.delete(sql));
  return statement;
}

function prepare(conn: SqliteConnection, sql: string): Promise<SqliteStatement> {
  return new Promise<SqliteStatement>((resolve, reject) => {
    const made = conn.prepare(sql, (err) => (err ? reject(err) : resolve(made)));
  });
}

const finalize = (statement: SqliteStatement) => new Promise<void>((resolve) => statement.finalize(() => resolve()));

/**
 * Runs statements on a PostgreSQL connection, each named after its text: PostgreSQL parses it once
 * per connection, then only binds and runs it (a group commit's statements differ only by their
 * batch's size). It plans it at each run, with the tables as they are then (store/db.ts).
 */
function pgStatement(conn: PgConnection): RawStatements['all'] {
  return async (sql, params) => (await conn.query({ name: statementName(sql), text: numbered(sql), values: params })).rows;
}

/**
 * A prepared statement's name derived from its text: the same text, the same statement. Remembered,
 * so a hot statement is not hashed again on every call; the texts are few (one per statement and
 * batch size, at most 100 sizes).
 */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) statementNames.set(sql, (name = `g${createHash('sha256').update(sql).digest('base64url').slice(0, 24)}`));
  return name;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the statements here hold no `?` of their own). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

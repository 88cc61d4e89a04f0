// @ts-check
/**
 * PostgreSQL for the bench: which server (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local
 * default), whether it answers, and a fresh schema per Grantor (as test/helpers/test-database.ts
 * makes them), dropped afterwards — also on failure and SIGINT (a procs.js clean-up step, registered
 * before the schema is made).
 */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { onCleanup } from './procs.js';

export const DEFAULT_DATABASE_URL = 'postgres://grantor:grantor@127.0.0.1:5432/grantor_test';

export function benchDatabaseUrl() {
  for (const name of ['BENCH_DATABASE_URL', 'TEST_DATABASE_URL']) {
    const v = process.env[name];
    if (v && /^postgres(ql)?:\/\//.test(v)) return { url: v, from: name };
  }
  return { url: DEFAULT_DATABASE_URL, from: 'default' };
}

/** The URL without its password, for printing. @param {string} url */
export function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

const admin = (/** @type {string} */ url) => knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5000 });

/**
 * Resolves to null when `url` answers `select 1` within a few seconds, else to the reason it did not.
 * @param {string} url
 * @returns {Promise<string | null>}
 */
export async function postgresUnreachable(url) {
  const db = admin(url);
  try {
    await db.raw('select 1');
    return null;
  } catch (/** @type {any} */ err) {
    return err?.message ?? String(err);
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

/**
 * A fresh schema in `url`'s database; `url` of the answer selects it (search_path in `options`);
 * `drop()` removes it and everything in it (idempotent). Drop only once every server using it has
 * stopped: CASCADE waits for their locks (at most 10 s here, then it fails and says so).
 * @param {string} url
 */
export async function createSchema(url) {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    unregister();
    const db = admin(url);
    try {
      // One simple-protocol query, so both statements run on the same connection.
      await db.raw(`SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await db.destroy().catch(() => undefined);
    }
  };
  const unregister = onCleanup(drop);
  const db = admin(url);
  try {
    await db.raw(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    unregister();
    throw err;
  } finally {
    await db.destroy().catch(() => undefined);
  }
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: withSchema.toString(), drop };
}

// @ts-check
// How big the database is per million grants: fills a fresh SQLite file (and PostgreSQL schema,
// when TEST_DATABASE_URL names one) with N delegated grants as Grantor writes them — a grant, its
// status index, one live refresh token, and a revocation entry for 1% — and reports bytes per
// grant. Usage: node bench/db-size.js [N=200000]
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { migrate, openDb } from '../dist/src/store/db.js';

const N = Number(process.argv[2] ?? 200_000);
const now = Math.floor(Date.now() / 1000);
const hash = () => randomBytes(32).toString('base64url');

/** @param {import('knex').Knex} db */
async function fill(db) {
  await migrate(db);
  const batch = 500;
  for (let start = 0; start < N; start += batch) {
    /** @type {Record<string, unknown>[]} */
    const grants = [];
    /** @type {Record<string, unknown>[]} */
    const indexes = [];
    /** @type {Record<string, unknown>[]} */
    const tokens = [];
    /** @type {Record<string, unknown>[]} */
    const revocations = [];
    for (let i = start; i < Math.min(N, start + batch); i++) {
      const id = randomUUID();
      indexes.push({ idx: i + 1, grant_id: id });
      const revoked = i % 100 === 0;
      grants.push({
        id, client_id: 'c'.repeat(22), user_id: randomUUID(), resource: 'https://api.example.com', scope: 'photos:read photos:write',
        kind: 'authorization_code', status_index: i + 1, created_at: now, last_used_at: now, revoked_at: revoked ? now : null, expires_at: now + 30 * 86400,
      });
      tokens.push({ id: randomUUID(), token_hash: hash(), grant_id: id, client_id: 'c'.repeat(22), scope: 'photos:read photos:write', created_at: now, expires_at: now + 30 * 86400 });
      if (revoked) revocations.push({ grant_id: id, revoked_at: now, reason: 'revoked by an administrator', revoked_by: 'admin:ops' });
    }
    await db.transaction(async (trx) => {
      await trx.batchInsert('status_indexes', indexes, batch);
      await trx.batchInsert('grants', grants, batch);
      await trx.batchInsert('refresh_tokens', tokens, batch);
      if (revocations.length) await trx.batchInsert('revocations', revocations, batch);
    });
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-size-'));
try {
  const file = path.join(dir, 'g.sqlite');
  const sqlite = openDb({ client: 'sqlite', filename: file });
  await fill(sqlite);
  await sqlite.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await sqlite.raw('VACUUM');
  await sqlite.destroy();
  const bytes = fs.statSync(file).size;
  console.log(`SQLite: ${N} grants → ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / N)} bytes per grant, ${((bytes / N) * 1e6 / 1e9).toFixed(2)} GB per million`);

  if (process.env.TEST_DATABASE_URL) {
    const schema = `size_${randomBytes(4).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: process.env.TEST_DATABASE_URL });
    await admin.raw(`CREATE SCHEMA ${schema}`);
    const url = new URL(process.env.TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const pg = openDb({ client: 'pg', connectionString: url.toString() });
    await fill(pg);
    await pg.raw('VACUUM ANALYZE');
    const { rows } = await pg.raw(`SELECT sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename)))::bigint AS bytes FROM pg_tables WHERE schemaname = ?`, [schema]);
    await pg.destroy();
    await admin.raw(`DROP SCHEMA ${schema} CASCADE`);
    await admin.destroy();
    const pgBytes = Number(rows[0].bytes);
    console.log(`PostgreSQL: ${N} grants → ${(pgBytes / 1e6).toFixed(1)} MB, ${Math.round(pgBytes / N)} bytes per grant, ${((pgBytes / N) * 1e6 / 1e9).toFixed(2)} GB per million`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Two Grantor instances on one database, as behind a load balancer: on PostgreSQL a fresh shared
 * schema, on SQLite a shared file. Each has a keys folder of its own — nothing is shared through
 * files — and the same KEY_ENCRYPTION_SECRET.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from './test-app.js';
import { createTestDatabase, onPostgres } from './test-database.js';

export interface TwoInstances {
  a: TestApp;
  b: TestApp;
  close(): Promise<void>;
}

export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-two-'));
  const database = onPostgres ? await createTestDatabase() : { url: `sqlite:${path.join(dir, 'shared.sqlite')}`, drop: async () => undefined };
  const shared = { DATABASE_URL: database.url, KEY_ENCRYPTION_SECRET: 'the same secret on every instance', ...env };
  const a = await startTestApp({ env: shared, keysDir: fs.mkdtempSync(path.join(dir, 'a-')) });
  const b = await startTestApp({ env: shared, keysDir: fs.mkdtempSync(path.join(dir, 'b-')) });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

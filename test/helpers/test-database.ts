/**
 * Which database the suite runs on: in-memory SQLite by default; PostgreSQL when TEST_DATABASE_URL
 * names one (`npm test` runs the whole suite once on each). On PostgreSQL every test app gets a
 * schema of its own, dropped when it closes, so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL;
export const onPostgres = !!testDatabaseUrl && /^postgres(ql)?:\/\//.test(testDatabaseUrl);

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!onPostgres) return { url: 'sqlite::memory:', drop: async () => undefined };
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: testDatabaseUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE SCHEMA ${schema}`);
  await admin.destroy();
  const url = new URL(testDatabaseUrl!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const again = knexFactory({ client: 'pg', connection: testDatabaseUrl, pool: { min: 0, max: 1 } });
      await again.raw(`DROP SCHEMA ${schema} CASCADE`);
      await again.destroy();
    },
  };
}

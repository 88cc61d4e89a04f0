#!/usr/bin/env node
// Runs the whole jest suite on one database: `sqlite` (in memory) or `pg` (TEST_DATABASE_URL).
// `npm test` runs both legs. Without TEST_DATABASE_URL the pg leg is skipped with a notice,
// except under CI, where a missing database is an error.
import { spawnSync } from 'node:child_process';
import { throwawayTls } from './throwaway-tls.js';

const leg = process.argv[2];
const env = { ...process.env };
if (leg === 'sqlite') {
  delete env.TEST_DATABASE_URL;
} else if (leg === 'pg') {
  if (!env.TEST_DATABASE_URL) {
    if (env.CI) {
      console.error('test: the PostgreSQL leg needs TEST_DATABASE_URL (postgres://…) under CI');
      process.exit(1);
    }
    console.log('test: PostgreSQL leg skipped; set TEST_DATABASE_URL=postgres://user:pass@127.0.0.1/db to run it');
    process.exit(0);
  }
  console.log(`test: running the suite on PostgreSQL (${env.TEST_DATABASE_URL.replace(/\/\/[^@/]*@/, '//***@')})`);
} else {
  console.error('usage: node test/run-jest.js sqlite|pg [jest args]');
  process.exit(2);
}
Object.assign(env, throwawayTls());
const jest = spawnSync(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', ...process.argv.slice(3)], { stdio: 'inherit', env });
process.exit(jest.status ?? 1);

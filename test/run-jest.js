#!/usr/bin/env node
// Runs the whole jest suite on one database: `sqlite` (in memory) or `pg` (TEST_DATABASE_URL).
// `npm test` runs both legs. Without TEST_DATABASE_URL the pg leg is skipped with a notice,
// except under CI, where a missing database is an error.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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

/**
 * A throwaway certificate authority and a certificate for localhost / 127.0.0.1 / ::1 it signed,
 * made fresh for each run in a temporary folder (nothing committed holds a private key). The jest
 * process trusts the CA through NODE_EXTRA_CA_CERTS, which Node reads only at start; tests serve
 * https on loopback with TEST_TLS_CERT / TEST_TLS_KEY and reach it through OUTBOUND_ALLOWED_HOSTS.
 */
function throwawayTls() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-test-tls-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const f = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Grantor test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'));
  return { NODE_EXTRA_CA_CERTS: f('ca.pem'), TEST_TLS_CERT: f('server.pem'), TEST_TLS_KEY: f('server.key') };
}

// A throwaway TLS certificate authority for loopback https servers: the test runner's
// (test/run-jest.js) and the bench's Client ID Metadata Document server (bench/metadata-documents.js).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway certificate authority and a certificate for localhost / 127.0.0.1 / ::1 it signed,
 * made fresh for each run in a temporary folder, removed when the process exits (nothing committed
 * holds a private key). A child process trusts the CA through NODE_EXTRA_CA_CERTS, which Node reads
 * only at start; an https server on loopback uses TEST_TLS_CERT / TEST_TLS_KEY, reached through
 * OUTBOUND_ALLOWED_HOSTS.
 */
export function throwawayTls() {
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

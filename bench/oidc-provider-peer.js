/** Starts bench/oidc-provider-child.js (node-oidc-provider v9) on a free loopback port. */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort, stopChild, tail, trackChild } from './procs.js';

export async function startOidcProvider({ resource, scope }) {
  const port = await freePort();
  const clientId = 'bench-client';
  const clientSecret = randomBytes(32).toString('base64url');
  const child = trackChild(
    fork(new URL('./oidc-provider-child.js', import.meta.url), [], {
      env: { ...process.env, NODE_ENV: 'production', PORT: String(port), CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, RESOURCE: resource, SCOPE: scope },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
    'oidc-provider',
  );
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  const logs = () => `--- oidc-provider stdout ---\n${out()}\n--- oidc-provider stderr ---\n${err()}`;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start within 20 s\n${logs()}`)), 20_000);
    child.once('message', (m) => { clearTimeout(timer); m?.ready ? resolve() : reject(new Error('unexpected message')); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`oidc-provider exited (code ${code})\n${logs()}`)); });
  });
  return {
    name: 'oidc-provider',
    url: `http://127.0.0.1:${port}`,
    tokenPath: '/token',
    pid: child.pid,
    clientId,
    clientSecret,
    resource,
    scope,
    logs,
    stop: () => stopChild(child),
  };
}

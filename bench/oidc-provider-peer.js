// @ts-check
/** Starts bench/oidc-provider-child.js (node-oidc-provider v9) on a free loopback port. */
import { randomBytes } from 'node:crypto';
import { REDIRECT_URI } from './delegated.js';
import { forkUntilReady, freePort, stopChild } from './procs.js';

/** @param {{ resource: string, scope: string }} o */
export async function startOidcProvider({ resource, scope }) {
  const port = await freePort();
  const clientId = 'bench-client';
  const clientSecret = randomBytes(32).toString('base64url');
  const spaClientId = 'bench-spa';
  const { child, logs } = await forkUntilReady(new URL('./oidc-provider-child.js', import.meta.url), {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), CLIENT_ID: clientId, CLIENT_SECRET: clientSecret, RESOURCE: resource, SCOPE: scope, SPA_CLIENT_ID: spaClientId, REDIRECT_URI },
    label: 'oidc-provider',
  });
  return {
    name: 'oidc-provider',
    url: `http://127.0.0.1:${port}`,
    tokenPath: '/token',
    pid: child.pid,
    clientId,
    clientSecret,
    /** The public client of the refresh job (authorization_code + refresh_token, no secret). */
    spaClientId,
    redirectUri: REDIRECT_URI,
    resource,
    scope,
    logs,
    stop: () => stopChild(child),
  };
}

// @ts-check
/**
 * What the delegated-access benches need on a running bench Grantor, registered with the CLI as an
 * operator would: a person (password on stdin), a public browser app (authorization_code +
 * refresh_token, one loopback redirect URI, the bench scope), and a resource server client with
 * the `introspect` permission.
 */
import { randomBytes } from 'node:crypto';
import { Person } from './browserless.js';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** @param {{ url: string, scope: string, resource: string, cli: (args: string[], opts?: { input?: string }) => Promise<any> }} grantor */
export async function prepareDelegated(grantor) {
  const username = 'bench-person';
  const password = randomBytes(18).toString('base64url');
  await grantor.cli(['users', 'create', '--username', username, '--json'], { input: `${password}\n` });
  const app = await grantor.cli(['clients', 'create', '--name', 'Bench App', '--type', 'public', '--redirect-uris', REDIRECT_URI, '--scopes', grantor.scope, '--json']);
  const rs = await grantor.cli(['clients', 'create', '--name', 'Bench API (introspection)', '--scopes', 'introspect', '--json']);
  if (!app.client_id || app.client_secret) throw new Error(`public client creation gave ${JSON.stringify(app)}`);
  if (!rs.client_id || !rs.client_secret) throw new Error(`introspection client creation gave ${JSON.stringify(rs)}`);
  const person = new Person({ baseUrl: grantor.url, clientId: app.client_id, redirectUri: REDIRECT_URI, scope: grantor.scope, resource: grantor.resource });
  return { username, password, app, rs, person };
}

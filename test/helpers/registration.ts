/** Dynamic client registration (RFC 7591) from the outside, and opening an API's scopes to the clients it makes. */
import { API, delegatedFixture } from './delegated.js';
import { startTestApp, type TestApp } from './test-app.js';

/** POST /oauth/register with `body` as JSON (a string is sent as it is). */
export function register(app: TestApp, body: unknown, headers: Record<string, string> = {}): Promise<Response & { json(): Promise<any> }> {
  return fetch(`${app.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** Opens `scopes` of the registered API `identifier` to clients nobody vetted (`dynamic_client_scopes`). */
export async function openScopes(app: TestApp, identifier: string, scopes: string[]): Promise<void> {
  const token = await app.adminToken();
  const list = await (await app.request('/admin/resources?limit=200', { token })).json();
  const id = list.items.find((r: { identifier: string }) => r.identifier === identifier).id;
  const patched = await app.request(`/admin/resources/${id}`, { method: 'PATCH', token, json: { dynamic_client_scopes: scopes } });
  if (patched.status !== 200) throw new Error(`PATCH /admin/resources answered ${patched.status}`);
}

/** A Grantor open to self-registration with no rate limits, holding delegatedFixture()'s Photos API with `photos:read` opened to clients nobody vetted. */
export async function startOpenRegistration(): Promise<TestApp> {
  const app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0', RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
  await delegatedFixture(app);
  await openScopes(app, API, ['photos:read']);
  return app;
}

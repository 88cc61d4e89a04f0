import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createUser } from '../../src/registry/users.js';
import { Person, pkce } from '../helpers/browserless.js';
import type { TestApp } from '../helpers/test-app.js';
import { onPostgres } from '../helpers/test-database.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

const API = 'https://api.example.com';
const REDIRECT = 'https://app.example.com/cb';

/**
 * Two Grantor instances on one database, as behind a load balancer: they share keys (sealed in the
 * database under one KEY_ENCRYPTION_SECRET), grants, revocations and rotations, with no shared
 * filesystem and no restart. On the PostgreSQL leg that is the real scale-out set-up.
 */
describe(`two instances on one ${onPostgres ? 'PostgreSQL' : 'SQLite'} database`, () => {
  let two: TwoInstances;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    two = await startTwoInstances({ JWKS_MAX_AGE: '1' });
    ({ a, b } = two);
    await a.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => two.close());

  const introspect = (app: TestApp, c: { client_id: string; client_secret: string }, token: string) =>
    fetch(`${app.url}/oauth/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: c.client_id, client_secret: c.client_secret }),
    }).then((r) => r.json());

  it('share one signing key without a shared filesystem', async () => {
    expect(a.deps.keyRing.signingKey().kid).toBe(b.deps.keyRing.signingKey().kid);
  });

  it('issue on one, revoke on the other, introspect on the first: inactive', async () => {
    const c = await a.client({ scopes: ['read'] });
    const { access_token } = await (await a.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] })).json();
    expect((await introspect(a, c, access_token)).active).toBe(true);
    const revoked = await b.request(`/admin/grants/${decodeJwt(access_token).grant_id}`, { method: 'DELETE', token: await b.adminToken() });
    expect(revoked.status).toBe(200);
    expect(await introspect(a, c, access_token)).toEqual({ active: false });
  });

  it('race one refresh token across both instances: exactly one rotation, every answer the same, the grant alive', async () => {
    await createUser(a.deps, { username: 'sam', password: 'long enough password' });
    const spa = await a.client({ type: 'public', redirect_uris: [REDIRECT], scopes: ['read'] });
    const { verifier, challenge } = pkce();
    const back = await new Person(a.url).authorize(
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: spa.client_id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { username: 'sam', password: 'long enough password' },
    );
    const first = await (await b.token({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.client_id })).json();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: spa.client_id })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(new Set(bodies.map((x) => x.refresh_token)).size).toBe(1);
    const grantId = decodeJwt(first.access_token).grant_id as string;
    expect(await a.deps.db('refresh_tokens').where({ grant_id: grantId })).toHaveLength(2); // the first and its one successor
    expect((await a.deps.db('grants').where({ id: grantId }).first()).revoked_at).toBeNull();
  });

  it('rotate on one: the other publishes the new key, then signs with it after the publication delay', async () => {
    const c = await a.client({ scopes: ['read'] });
    const kidFrom = async (app: TestApp) =>
      decodeProtectedHeader((await (await app.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] })).json()).access_token).kid;
    const oldKid = await kidFrom(b);
    const rotated = await (await a.request('/admin/keys/rotate', { method: 'POST', token: await a.adminToken() })).json();
    const deadline = Date.now() + 30_000;
    let publishedByB = false;
    while (Date.now() < deadline) {
      const kids = (await (await b.request('/.well-known/jwks.json')).json()).keys.map((k: { kid: string }) => k.kid);
      if (kids.includes(rotated.kid)) publishedByB = true;
      const kid = await kidFrom(b);
      if (kid === rotated.kid) break;
      expect(kid).toBe(oldKid); // never the new key before the delay
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(publishedByB).toBe(true);
    expect(await kidFrom(b)).toBe(rotated.kid);
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(rotated.activates_at);
  }, 40_000);
});

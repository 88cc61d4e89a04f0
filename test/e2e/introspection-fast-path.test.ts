/**
 * Issue #14 item 4: introspection is answered on a lean path ahead of koa, verifies a token's
 * signature once, and shares grant reads among concurrent requests — and none of that may change
 * an answer. Revoked means inactive at once, on every instance (issue #10); an expired token is
 * inactive although its signature was verified before; a key leaving the JWKS takes its tokens
 * with it.
 */
import { decodeJwt } from 'jose';
import type { Clock } from '../../src/lib/clock.js';
import { onPostgres } from '../helpers/test-database.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

type Creds = { client_id: string; client_secret: string };
const basic = (c: Creds) => `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`;

async function introspect(app: TestApp, caller: Creds, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${app.url}/oauth/introspect`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(caller) },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

async function tokenFor(app: TestApp, creds: Creds): Promise<string> {
  const res = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret] });
  return (await res.json()).access_token;
}

describe('introspection verifies a signature once, but checks time every time', () => {
  let app: TestApp;
  let t = 1_800_000_000;
  const clock: Clock = { now: () => t } as Clock;
  let rs: Creds;
  let creds: Creds;
  beforeAll(async () => {
    app = await startTestApp({ clock });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    rs = await app.client({ name: 'a resource server', scopes: ['introspect'] });
    creds = await app.client({ scopes: ['read'] });
  });
  afterAll(() => app.close());

  it('answers inactive once the token is past `exp`, although it was active (verified) a moment before (RFC 7662 §2.2)', async () => {
    const token = await tokenFor(app, creds);
    expect(await introspect(app, rs, token)).toMatchObject({ active: true });
    t = (decodeJwt(token).exp as number) - 1;
    expect(await introspect(app, rs, token)).toMatchObject({ active: true });
    t += 1;
    expect(await introspect(app, rs, token)).toEqual({ active: false });
  });

  it('answers inactive for a token whose signing key has left the key set, although it was active before', async () => {
    const token = await tokenFor(app, creds);
    expect(await introspect(app, rs, token)).toMatchObject({ active: true });
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    const ring = app.deps.keyRing;
    const published = ring.publicJwks.bind(ring);
    const verificationKeys = ring.verificationKeys.bind(ring);
    const { createLocalJWKSet } = await import('jose');
    const without = createLocalJWKSet({ keys: published().filter((k) => k.kid !== kid) });
    ring.verificationKeys = () => without;
    try {
      expect(await introspect(app, rs, token)).toEqual({ active: false });
    } finally {
      ring.verificationKeys = verificationKeys;
    }
  });
});

describe(`introspection under concurrency across two instances on one ${onPostgres ? 'PostgreSQL' : 'SQLite'} database`, () => {
  let two: TwoInstances;
  let rs: Creds;
  beforeAll(async () => {
    two = await startTwoInstances({ ISSUER: 'https://grantor.example' });
    await two.a.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    rs = await two.a.client({ name: 'a resource server', scopes: ['introspect'] });
  });
  afterAll(() => two.close());

  it('answers every introspection sent after a revocation on the other instance inactive, with many in flight (shared grant reads never answer from before)', async () => {
    const { a, b } = two;
    const creds = await a.client({ scopes: ['read'] });
    const token = await tokenFor(a, creds);
    const grantId = decodeJwt(token).grant_id as string;
    expect(await introspect(b, rs, token)).toMatchObject({ active: true });

    // Keep b busy introspecting the token while a revokes its grant.
    let stop = false;
    const background = (async () => {
      while (!stop) await Promise.all(Array.from({ length: 10 }, () => introspect(b, rs, token)));
    })();
    const revoked = await a.request(`/admin/grants/${grantId}`, { method: 'DELETE', token: await a.adminToken() });
    expect(revoked.status).toBeLessThan(300);
    const after = await Promise.all(Array.from({ length: 30 }, () => introspect(b, rs, token)));
    stop = true;
    await background;
    expect(after).toEqual(Array(30).fill({ active: false }));
  });
});

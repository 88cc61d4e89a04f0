import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { pruneRetention } from '../../src/deps.js';
import { fixedClock } from '../../src/lib/clock.js';
import { pruneExpired } from '../../src/store/prune.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';

describe('signing key lifecycle: next → active → retired → removed', () => {
  const clock = fixedClock(1_800_000_000);
  let app: TestApp;
  let admin: string;
  let creds: { client_id: string; client_secret: string };
  const kidOfNewToken = async () =>
    decodeProtectedHeader((await (await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, creds.client_secret] })).json()).access_token).kid;
  const jwksKids = async () => (await (await app.request('/.well-known/jwks.json')).json()).keys.map((k: { kid: string }) => k.kid);

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { JWKS_MAX_AGE: '300' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
    admin = await app.adminToken();
  });
  afterAll(() => app.close());

  it('publishes a rotated key at once but signs with it only after the JWKS cache lifetime, then retires and removes the old one', async () => {
    const before = await (await app.request('/admin/keys', { token: admin })).json();
    expect(before.items).toEqual([expect.objectContaining({ state: 'active' })]);
    const oldKid = before.items[0].kid;

    const rotated = await app.request('/admin/keys/rotate', { method: 'POST', token: admin });
    expect(rotated.status).toBe(201);
    const next = await rotated.json();
    expect(next).toMatchObject({ state: 'next', created_at: clock.now() });
    expect(next.activates_at - clock.now()).toBeGreaterThanOrEqual(300 + 10);
    expect(JSON.stringify(next)).not.toMatch(/"d"|PRIVATE/);

    // Published, not signing.
    expect((await jwksKids()).sort()).toEqual([oldKid, next.kid].sort());
    expect(await kidOfNewToken()).toBe(oldKid);

    // After the publication delay it signs; the old key is retired but still published.
    clock.advance(next.activates_at - clock.now());
    expect(await kidOfNewToken()).toBe(next.kid);
    const during = await (await app.request('/admin/keys', { token: admin })).json();
    const states = Object.fromEntries(during.items.map((k: { kid: string; state: string }) => [k.kid, k.state]));
    expect(states).toEqual({ [oldKid]: 'retired', [next.kid]: 'active' });
    const old = during.items.find((k: { kid: string }) => k.kid === oldKid);
    expect(old.removes_at).toBeGreaterThanOrEqual(next.activates_at + 86400);
    expect((await jwksKids()).sort()).toEqual([oldKid, next.kid].sort());

    // Once every token it signed has expired, it leaves the JWKS.
    clock.advance(old.removes_at - clock.now());
    expect(await jwksKids()).toEqual([next.kid]);
    // …and pruning deletes its row.
    const pruned = await pruneExpired(app.deps.db, clock.now(), pruneRetention(app.deps.config), app.deps.config.grantIdleTimeout);
    expect(pruned.signingKeys).toBe(1);
    expect((await app.deps.db('signing_keys').select('kid')).map((r: { kid: string }) => r.kid)).toEqual([next.kid]);
  });
});

describe('rotation under load, with a resource server that caches the JWKS', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { JWKS_MAX_AGE: '1' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  it('never meets an unknown kid: zero failed validations across the switch', async () => {
    const creds = await app.client({ scopes: ['read'] });
    // A resource server that refreshes its JWKS only every second (JWKS_MAX_AGE) and may not
    // refetch on an unknown kid within 60 s: only publication before use can keep it working.
    const jwks = createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`), { cacheMaxAge: 1000, cooldownDuration: 60_000 });
    const firstKid = app.deps.keyRing.signingKey().kid;
    await app.request('/admin/keys/rotate', { method: 'POST', token: await app.adminToken() });
    let validated = 0;
    let failures = 0;
    const kids = new Set<string>();
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline) {
      const { access_token } = await (await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, creds.client_secret] })).json();
      const kid = decodeProtectedHeader(access_token).kid!;
      kids.add(kid);
      try {
        await jwtVerify(access_token, jwks, { issuer: app.issuer, audience: API, typ: 'at+jwt' });
        validated++;
      } catch {
        failures++;
      }
      if (kids.size === 2 && kid !== firstKid && validated > 50) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(kids.size).toBe(2);
    expect(failures).toBe(0);
    expect(validated).toBeGreaterThan(50);
  }, 40_000);
});

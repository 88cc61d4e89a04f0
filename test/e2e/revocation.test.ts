import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { fixedClock } from '../../src/lib/clock.js';
import { Person } from '../helpers/browserless.js';
import { rawRequest } from '../helpers/raw-http.js';
import { delegatedFixture, delegatedTokens, refresh } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';
const claimsOf = (token: string) => decodeJwt(token) as { grant_id: string; status: { status_list: { idx: number; uri: string } } };

/** Reads entry `idx` of the published status list. */
async function statusBit(app: TestApp, idx: number): Promise<number> {
  const res = await app.request('/statuslists/1');
  const token = await res.text();
  const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: app.deps.keyRing.publicJwks() }), { typ: 'statuslist+jwt' });
  const bytes = inflateSync(Buffer.from((payload.status_list as { lst: string }).lst, 'base64url'));
  return (bytes[idx >> 3] >> (idx & 7)) & 1;
}

describe('revocation keyed by grant', () => {
  let app: TestApp;
  let admin: string;
  const basic = (c: { client_id: string; client_secret: string }): [string, string] => [c.client_id, c.client_secret];
  const issue = async (c: { client_id: string; client_secret: string }) => (await (await app.token({ grant_type: 'client_credentials' }, { basic: basic(c) })).json()).access_token as string;
  const introspect = async (caller: { client_id: string; client_secret: string }, token: string) =>
    (await fetch(`${app.url}/oauth/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${caller.client_id}:${caller.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    }));

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.adminToken();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  describe('admin grants API', () => {
    it('lists and reads grants with client, scope, resource, status and times', async () => {
      const c = await app.client({ scopes: ['read'] });
      const { grant_id } = claimsOf(await issue(c));
      const list = await (await app.request(`/admin/grants?client_id=${c.client_id}`, { token: admin })).json();
      expect(list.items).toHaveLength(1);
      expect(list.items[0]).toMatchObject({ id: grant_id, client_id: c.client_id, user_id: null, kind: 'client_credentials', resource: API, status: 'active', revoked_at: null });
      const one = await (await app.request(`/admin/grants/${grant_id}`, { token: admin })).json();
      expect(one).toMatchObject({ id: grant_id, created_at: expect.any(Number), status_index: expect.any(Number) });
      expect((await app.request('/admin/grants/nope', { token: admin })).status).toBe(404);
    });

    it('revokes a grant: introspection goes inactive, the status bit is set, the entry is in the list (idempotently)', async () => {
      const c = await app.client({ scopes: ['read'] });
      const token = await issue(c);
      const { grant_id, status } = claimsOf(token);
      expect((await (await introspect(c, token)).json()).active).toBe(true);
      expect(await statusBit(app, status.status_list.idx)).toBe(0);

      const before = await (await app.request('/admin/revocations', { token: admin })).json();
      const res = await app.request(`/admin/grants/${grant_id}`, { method: 'DELETE', token: admin, json: { reason: 'laptop stolen' } });
      expect(res.status).toBe(200);
      const revoked = await res.json();
      expect(revoked).toMatchObject({ id: grant_id, status: 'revoked', revoked_at: expect.any(Number), revocation: { reason: 'laptop stolen', revoked_by: expect.stringMatching(/^admin:/) } });

      expect(await (await introspect(c, token)).json()).toEqual({ active: false });
      expect(await statusBit(app, status.status_list.idx)).toBe(1);

      // Idempotent: a second DELETE changes nothing and appends nothing.
      const again = await app.request(`/admin/grants/${grant_id}`, { method: 'DELETE', token: admin });
      expect(again.status).toBe(200);
      expect((await again.json()).revocation.reason).toBe('laptop stolen');
      const feed = await (await app.request(`/admin/revocations?since=${before.next_since}`, { token: admin })).json();
      expect(feed.items).toEqual([{ seq: expect.any(Number), grant_id, revoked_at: expect.any(Number), reason: 'laptop stolen', revoked_by: expect.stringMatching(/^admin:/) }]);
      expect(feed.next_since).toBe(feed.items[0].seq);

      // The client can still ask again: a new standing grant with a new status index.
      const fresh = claimsOf(await issue(c));
      expect(fresh.grant_id).not.toBe(grant_id);
      expect(fresh.status.status_list.idx).not.toBe(status.status_list.idx);
      expect(await statusBit(app, fresh.status.status_list.idx)).toBe(0);
    });

    it('revokes every grant of a client in one step and says how many', async () => {
      await app.resource({ identifier: 'https://second.example.com', scopes: [{ name: 'two' }] });
      const c = await app.client({ scopes: ['read', 'two'] });
      await app.token({ grant_type: 'client_credentials', resource: API }, { basic: basic(c) });
      await app.token({ grant_type: 'client_credentials', resource: 'https://second.example.com' }, { basic: basic(c) });
      const res = await app.request('/admin/revocations', { method: 'POST', token: admin, json: { client_id: c.client_id, reason: 'compromised' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ revoked: 2 });
      expect(await (await app.request('/admin/revocations', { method: 'POST', token: admin, json: { client_id: c.client_id } })).json()).toEqual({ revoked: 0 });
      const active = await (await app.request(`/admin/grants?client_id=${c.client_id}&status=active`, { token: admin })).json();
      expect(active.items).toEqual([]);
      const revoked = await (await app.request(`/admin/grants?client_id=${c.client_id}&status=revoked`, { token: admin })).json();
      expect(revoked.items).toHaveLength(2);
    });

    it('revokes every grant of a person in one step', async () => {
      // Users arrive with the authorization code flow; a grant row for a person stands in here.
      const c = await app.client({ scopes: ['read'] });
      const { grant_id } = claimsOf(await issue(c));
      await app.deps.db('grants').where({ id: grant_id }).update({ user_id: 'user-42' });
      const res = await app.request('/admin/revocations', { method: 'POST', token: admin, json: { user_id: 'user-42' } });
      expect(await res.json()).toEqual({ revoked: 1 });
    });

    it('refuses a revocation body naming neither or both owners, and nothing changes', async () => {
      const count = async () => Number((await app.deps.db('revocations').count({ n: '*' }))[0].n);
      const n = await count();
      for (const json of [{}, { client_id: 'a', user_id: 'b' }, { client_id: 42 }, { client_id: 'x', extra: 1 }]) {
        const res = await app.request('/admin/revocations', { method: 'POST', token: admin, json });
        expect(res.status).toBe(400);
        expect((await res.json()).error).toBe('invalid_request');
      }
      expect(await count()).toBe(n);
    });

    it('revokes the grants of a client when it is disabled', async () => {
      const c = await app.client({ scopes: ['read'] });
      const token = await issue(c);
      const res = await app.request(`/admin/clients/${c.client_id}`, { method: 'PATCH', token: admin, json: { disabled: true } });
      expect(res.status).toBe(200);
      expect(await statusBit(app, claimsOf(token).status.status_list.idx)).toBe(1);
      const grant = await (await app.request(`/admin/grants/${claimsOf(token).grant_id}`, { token: admin })).json();
      expect(grant.revocation.reason).toBe('client disabled');
    });

    it('revokes the grants of a client when it is deleted', async () => {
      const c = await app.client({ scopes: ['read'] });
      const token = await issue(c);
      expect((await app.request(`/admin/clients/${c.client_id}`, { method: 'DELETE', token: admin })).status).toBe(204);
      expect(await statusBit(app, claimsOf(token).status.status_list.idx)).toBe(1);
    });
  });

  describe('RFC 7009 revocation endpoint', () => {
    const revoke = (c: { client_id: string; client_secret: string }, params: Record<string, string>) =>
      fetch(`${app.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}` },
        body: new URLSearchParams(params),
      });

    it('revokes the grant of the client’s own access token', async () => {
      const c = await app.client({ scopes: ['read'] });
      const token = await issue(c);
      const res = await revoke(c, { token, token_type_hint: 'access_token' });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await (await introspect(c, token)).json()).toEqual({ active: false });
      const grant = await app.deps.db('grants').where({ id: claimsOf(token).grant_id }).first();
      expect(grant.revoked_at).not.toBeNull();
    });

    it('answers 200 and changes nothing for unknown, malformed or another client’s tokens (§2.2)', async () => {
      const owner = await app.client({ scopes: ['read'] });
      const thief = await app.client({ scopes: ['read'] });
      const token = await issue(owner);
      for (const params of [{ token }, { token: 'garbage' }, { token: 'a.b.c' }, { token, token_type_hint: 'unsupported_hint' }] as Record<string, string>[]) {
        expect((await revoke(thief, params)).status).toBe(200);
      }
      expect((await (await introspect(owner, token)).json()).active).toBe(true);
    });

    it('requires client authentication and a token', async () => {
      const c = await app.client({ scopes: ['read'] });
      const bad = await revoke({ client_id: c.client_id, client_secret: 'wrong' }, { token: 'x' });
      expect(bad.status).toBe(401);
      expect((await bad.json()).error).toBe('invalid_client');
      const missing = await revoke(c, {});
      expect(missing.status).toBe(400);
      expect((await missing.json()).error).toBe('invalid_request');
    });
  });

  describe('RFC 7662 introspection endpoint', () => {
    it('describes an active token to the client it was issued to', async () => {
      const c = await app.client({ scopes: ['read'] });
      const token = await issue(c);
      const res = await introspect(c, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const claims = claimsOf(token);
      expect(await res.json()).toEqual({
        active: true,
        scope: 'read',
        client_id: c.client_id,
        sub: c.client_id,
        aud: API,
        iss: app.issuer,
        exp: expect.any(Number),
        iat: expect.any(Number),
        jti: expect.any(String),
        token_type: 'Bearer',
        grant_id: claims.grant_id,
      });
    });

    it('shows another client’s token only to a client with the introspect permission', async () => {
      const owner = await app.client({ scopes: ['read'] });
      const other = await app.client({ scopes: ['read'] });
      const rs = await app.client({ scopes: ['introspect'] });
      const token = await issue(owner);
      expect(await (await introspect(other, token)).json()).toEqual({ active: false });
      expect((await (await introspect(rs, token)).json()).active).toBe(true);
    });

    it('answers active:false and nothing else for garbage, forged and unknown tokens', async () => {
      const c = await app.client({ scopes: ['read'] });
      for (const token of ['garbage', 'a.b.c', `${(await issue(c)).slice(0, -4)}AAAA`, 'x'.repeat(9000)]) {
        const res = await introspect(c, token);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ active: false });
      }
    });

    it('requires an authenticated, confidential caller', async () => {
      const c = await app.client({ scopes: ['read'] });
      const token = await issue(c);
      const anonymous = await fetch(`${app.url}/oauth/introspect`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
      expect(anonymous.status).toBe(401);
      const pub = await app.client({ type: 'public', redirect_uris: ['https://spa.example.com/cb'] });
      const asPublic = await fetch(`${app.url}/oauth/introspect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: pub.client_id }),
      });
      expect(asPublic.status).toBe(401);
    });
  });

  describe('status list token (draft-ietf-oauth-status-list-20)', () => {
    it('is a signed statuslist+jwt with sub, iat, exp, ttl and a 1-bit zlib list, cached per ttl', async () => {
      const res = await app.request('/statuslists/1');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/statuslist+jwt');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')![1]);
      const token = await res.text();
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'statuslist+jwt', kid: app.deps.keyRing.signingKey().kid });
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: app.deps.keyRing.publicJwks() }), { typ: 'statuslist+jwt', subject: `${app.issuer}/statuslists/1` });
      expect(payload).toMatchObject({ iss: app.issuer, iat: expect.any(Number), exp: expect.any(Number), ttl: 10, status_list: { bits: 1, lst: expect.any(String) } });
      expect(maxAge).toBeLessThanOrEqual(payload.ttl as number);
      expect((payload.exp as number) - (payload.iat as number)).toBeGreaterThan(payload.ttl as number);

      const etag = res.headers.get('etag')!;
      // fetch() adds Cache-Control: no-cache to conditional requests; the origin still answers 304.
      const cached = await app.request('/statuslists/1', { headers: { 'If-None-Match': etag } });
      expect(cached.status).toBe(304);
    });

    it('is served gzip-compressed to a client that accepts it, with its own ETag and Vary: Accept-Encoding', async () => {
      const plain = await rawRequest(app.url, '/statuslists/1');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toMatch(/accept-encoding/i);
      const zipped = await rawRequest(app.url, '/statuslists/1', { headers: { 'Accept-Encoding': 'gzip, deflate' } });
      const raw = await new Promise<Buffer>((resolve, reject) => {
        http.get(`${app.url}/statuslists/1`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers['content-type']).toBe('application/statuslist+jwt');
      expect(gunzipSync(raw).toString()).toBe(plain.text);
      expect(raw.length).toBeLessThan(Buffer.byteLength(plain.text));
      expect(zipped.headers.etag).not.toBe(plain.headers.etag);
      const notModified = await rawRequest(app.url, '/statuslists/1', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': zipped.headers.etag as string } });
      expect(notModified.status).toBe(304);
      // The other encoding's ETag does not match this one.
      const other = await rawRequest(app.url, '/statuslists/1', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': plain.headers.etag as string } });
      expect(other.status).toBe(200);
    });

    it('does not offer historical resolution (501)', async () => {
      const res = await app.request('/statuslists/1?time=1700000000');
      expect(res.status).toBe(501);
    });

    it('covers every index handed out, with headroom for grants made before the next fetch', async () => {
      const c = await app.client({ scopes: ['read'] });
      const { status } = claimsOf(await issue(c));
      const token = await (await app.request('/statuslists/1')).text();
      const bytes = inflateSync(Buffer.from((decodeJwt(token).status_list as { lst: string }).lst, 'base64url'));
      expect(bytes.length * 8).toBeGreaterThan(status.status_list.idx + 100_000);
    });
  });
});

describe('revocation state across a restart', () => {
  it('keeps revoked grants revoked and the list intact when the server restarts on the same database', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-restart-'));
    const env = { DATABASE_URL: `sqlite:${path.join(dir, 'g.sqlite')}` };
    const keysDir = path.join(dir, 'keys');
    try {
      const first = await startTestApp({ env, keysDir });
      await first.resource({ identifier: API, scopes: [{ name: 'read' }] });
      const c = await first.client({ scopes: ['read'] });
      const token = (await (await first.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] })).json()).access_token;
      const { grant_id, status } = claimsOf(token);
      const adminToken = await first.adminToken();
      await first.request(`/admin/grants/${grant_id}`, { method: 'DELETE', token: adminToken });
      await first.close();

      const second = await startTestApp({ env, keysDir });
      try {
        expect(await statusBit(second, status.status_list.idx)).toBe(1);
        const feed = await (await second.request('/admin/revocations', { token: await second.adminToken() })).json();
        expect(feed.items.map((r: { grant_id: string }) => r.grant_id)).toContain(grant_id);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an expired token inactive at introspection', async () => {
    const clock = fixedClock(1_800_000_000);
    const app = await startTestApp({ clock });
    try {
      await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
      const c = await app.client({ scopes: ['read'] });
      const token = (await (await app.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] })).json()).access_token;
      clock.advance(601);
      const res = await fetch(`${app.url}/oauth/introspect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: c.client_id, client_secret: c.client_secret }),
      });
      expect(await res.json()).toEqual({ active: false });
    } finally {
      await app.close();
    }
  });
});

describe('what a revocation refreshes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());
  const registryEpoch = async () => Number((await app.deps.db('change_epochs').where({ name: 'registry' }).first('epoch'))?.epoch ?? 0);

  it('leaves the read caches alone for a delegated grant, and refreshes them for a standing one', async () => {
    const fx = await delegatedFixture(app);
    const tokens = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
    const admin = await app.adminToken();

    const before = await registryEpoch();
    expect((await app.request(`/admin/grants/${tokens.grant_id}`, { method: 'DELETE', token: admin })).status).toBe(200);
    expect(await registryEpoch()).toBe(before);
    // Revoked all the same: the refresh token is dead.
    expect((await refresh(app, fx.spa.client_id, tokens.refresh_token)).status).toBe(400);

    const m2m = await app.client({ scopes: ['photos:read'] });
    const first = await (await app.token({ grant_type: 'client_credentials' }, { basic: [m2m.client_id, m2m.client_secret] })).json();
    const standing = decodeJwt(first.access_token).grant_id as string;
    const beforeStanding = await registryEpoch();
    expect((await app.request(`/admin/grants/${standing}`, { method: 'DELETE', token: admin })).status).toBe(200);
    expect(await registryEpoch()).toBe(beforeStanding + 1);
    // The next request finds no cached copy of the revoked grant and gets a new one.
    const next = await (await app.token({ grant_type: 'client_credentials' }, { basic: [m2m.client_id, m2m.client_secret] })).json();
    expect(decodeJwt(next.access_token).grant_id).not.toBe(standing);
  });
});

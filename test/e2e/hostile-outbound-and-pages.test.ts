/**
 * Hostile requests against the outbound fetches, the person-facing pages, dynamic registration and
 * the admin API's authorization (from a security review on 2026-11-30, after the one of
 * hostile-grant-requests.test.ts). Each test is named for the attack it tries; attacks already
 * pinned elsewhere in test/ are not repeated here.
 */
import { gzipSync } from 'node:zlib';
import { fetchDocument, type OutboundOptions, type Resolve } from '../../src/outbound/fetch-document.js';
import { checkPushEndpoint } from '../../src/outbound/post-set.js';
import { Person, pkce } from '../helpers/browserless.js';
import { assertionParams, clientAssertion, clientKey, type ClientKey } from '../helpers/client-assertion.js';
import { API, authorizeUrl, delegatedFixture, delegatedTokens, PASSWORD, signIn, type Delegated } from '../helpers/delegated.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { register, startOpenRegistration } from '../helpers/registration.js';

const REDIRECT = 'https://app.example.com/callback';
const EVIL_REDIRECT = 'https://attacker.example/harvest';

/** Registers a private_key_jwt client (RFC 7591) with one inline public key. */
async function registerKeyClient(app: TestApp, extra: Record<string, unknown> = {}): Promise<{ info: any; key: ClientKey }> {
  const key = await clientKey('ES256');
  const res = await register(app, { client_name: 'Keyed agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, ...extra });
  expect(res.status).toBe(201);
  return { info: await res.json(), key };
}

describe('hostile: remembered consent for apps nobody vetted (README "Dynamic client registration": "A person consents to each scope every time")', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startOpenRegistration();
  });
  afterAll(() => app.close());

  it('asks the person again every time for a self-registered private_key_jwt app (no silent re-authorization after one approval)', async () => {
    const { info } = await registerKeyClient(app);
    const person = new Person(app.url);
    const p = pkce();
    const url = authorizeUrl(info.client_id, { code_challenge: p.challenge, code_challenge_method: 'S256' });
    const first = await person.authorize(url, { username: 'alice', password: PASSWORD });
    expect(first.searchParams.get('code')).toBeTruthy();
    // Second time: an app nobody vetted must show the consent page again (200 with the Allow/Deny form).
    const again = await person.get(url);
    expect([again.status, again.headers.get('location')]).toEqual([200, null]);
    expect(await again.text()).toContain('name="decision"');
  });

  it('gives a hijacked registration (RFC 7592 PUT: new redirect URI and key) no code with prompt=none from people who approved it before: consent_required', async () => {
    const { info } = await registerKeyClient(app);
    const person = new Person(app.url);
    // alice approves the genuine app once, seeing "you will be sent to app.example.com".
    const p1 = pkce();
    const approved = await person.authorize(authorizeUrl(info.client_id, { code_challenge: p1.challenge, code_challenge_method: 'S256' }), { username: 'alice', password: PASSWORD });
    expect(approved.searchParams.get('code')).toBeTruthy();

    // Whoever holds the registration access token (leaked, or the app's owner turned hostile) repoints the app.
    const attackerKey = await clientKey('ES256');
    const put = await fetch(info.registration_client_uri, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${info.registration_access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: info.client_id, client_name: 'Keyed agent', redirect_uris: [EVIL_REDIRECT], grant_types: ['authorization_code'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [attackerKey.publicJwk] } }),
    });
    expect(put.status).toBe(200);

    // alice, still signed in, follows a link; prompt=none means she sees nothing at all.
    const p2 = pkce();
    const res = await person.get(authorizeUrl(info.client_id, { redirect_uri: EVIL_REDIRECT, prompt: 'none', state: 's', code_challenge: p2.challenge, code_challenge_method: 'S256' }));
    const location = new URL(res.headers.get('location') ?? 'about:blank');
    const code = location.searchParams.get('code');
    if (code) {
      // What the attacker gains (shown for the record): tokens for alice's photos.
      const redeemed = await app.token({ grant_type: 'authorization_code', code, redirect_uri: EVIL_REDIRECT, code_verifier: p2.verifier, client_id: info.client_id, ...assertionParams(await clientAssertion(attackerKey, info.client_id, app.issuer)) });
      expect({ harvested: redeemed.status, scope: (await redeemed.json()).scope }).toEqual({ harvested: 'nothing: consent_required expected', scope: undefined });
    }
    // Expected: OpenID-style prompt=none answers consent_required for an app that must ask each time.
    expect(location.origin + location.pathname).toBe(EVIL_REDIRECT);
    expect(location.searchParams.get('error')).toBe('consent_required');
    expect(code).toBeNull();
  });
});

describe('hostile: a resource scope named like a Grantor permission (RFC 7662 §2.1, README "Introspection")', () => {
  let app: TestApp;
  let fx: Delegated;
  const AUDIT = 'https://audit.example.com';
  beforeAll(async () => {
    app = await startTestApp({ env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0', RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    fx = await delegatedFixture(app);
    await app.resource({ identifier: AUDIT, name: 'Audit log', scopes: [{ name: 'audit:read', description: 'Inspect your audit records' }], dynamic_client_scopes: ['audit:read'] });
  });
  afterAll(() => app.close());

  it.each(['admin', 'ssf', 'introspect'])('refuses an API scope named %s, Grantor\'s own, on create and on update (400, nothing stored)', async (name) => {
    const token = await app.adminToken();
    const created = await app.request('/admin/resources', { method: 'POST', token, json: { identifier: `https://${name}.example.com`, name: 'x', scopes: [{ name }] } });
    expect(created.status).toBe(400);
    expect((await created.json()).error).toBe('invalid_request');
    const list = await (await app.request('/admin/resources?limit=200', { token })).json();
    const audit = list.items.find((r: { identifier: string }) => r.identifier === AUDIT);
    expect(list.items.some((r: { identifier: string }) => r.identifier === `https://${name}.example.com`)).toBe(false);
    const patched = await app.request(`/admin/resources/${audit.id}`, { method: 'PATCH', token, json: { scopes: [{ name }] } });
    expect(patched.status).toBe(400);
    expect((await (await app.request(`/admin/resources/${audit.id}`, { token })).json()).scopes).toEqual([{ name: 'audit:read', description: 'Inspect your audit records' }]);
  });

  it('never lets a self-registered app introspect other clients\' tokens, even when an admin allows it the introspect permission', async () => {
    const { info, key } = await registerKeyClient(app, { scope: 'audit:read' });
    const patched = await app.request(`/admin/clients/${info.client_id}`, { method: 'PATCH', token: await app.adminToken(), json: { scopes: ['audit:read', 'introspect'] } });
    expect(patched.status).toBe(200);
    const victim = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
    const asked = async (token: string) =>
      (await fetch(`${app.url}/oauth/introspect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: info.client_id, ...assertionParams(await clientAssertion(key, info.client_id, app.issuer)) }),
      })).json();
    // Another client's tokens: {"active": false} and nothing more (RFC 7662 §2.2; standards.md 27).
    expect(await asked(victim.access_token)).toEqual({ active: false });
    expect(await asked(victim.refresh_token)).toEqual({ active: false });
  });
});

describe('hostile outbound fetches: other spellings of refused addresses (standards.md "Outbound fetches")', () => {
  let server: TestHttpsServer;
  let bomb: Buffer;
  beforeAll(async () => {
    bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20));
    server = await startHttpsServer((req, res) => {
      if (req.url === '/bomb') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
        return res.end(bomb);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  afterAll(() => server.close());

  /** A resolver that must never be asked: an IP literal is judged without a lookup. */
  const noLookup: Resolve = async (name) => {
    throw new Error(`looked up ${name}`);
  };
  const opts = (over: Partial<OutboundOptions> = {}): OutboundOptions => ({ allowedHosts: new Set(), timeoutMs: 2000, maxBytes: 5120, resolve: noLookup, ...over });

  it.each([
    ['decimal loopback', 'https://2130706433/x'],
    ['hex loopback', 'https://0x7f000001/x'],
    ['octal loopback', 'https://0177.0.0.1/x'],
    ['short loopback 127.1', 'https://127.1/x'],
    ['dotted hex metadata address', 'https://0xa9.0xfe.0xa9.0xfe/x'],
    ['decimal metadata address', 'https://2852039166/x'],
    ['0 (this host)', 'https://0/x'],
    ['0.0.0.0', 'https://0.0.0.0/x'],
    ['trailing-dot loopback', 'https://127.0.0.1./x'],
    ['[::]', 'https://[::]/x'],
    ['[::ffff:7f00:1]', 'https://[::ffff:7f00:1]/x'],
    ['IPv4-compatible [::7f00:1]', 'https://[::7f00:1]/x'],
    ['NAT64 of the metadata address', 'https://[64:ff9b::a9fe:a9fe]/x'],
    ['6to4 of 10.0.0.1', 'https://[2002:a00:1::1]/x'],
    ['unique local fd00::1', 'https://[fd00::1]/x'],
    ['link-local fe80::1', 'https://[fe80::1]/x'],
    ['shared address space 100.64.0.1', 'https://100.64.0.1/x'],
    ['benchmarking 198.19.0.1', 'https://198.19.0.1/x'],
    ['reserved 240.0.0.1', 'https://240.0.0.1/x'],
    ['broadcast', 'https://255.255.255.255/x'],
    ['loopback with a port', 'https://127.0.0.1:8443/x'],
  ])('refuses an IP literal in another spelling before connecting: %s', async (_what, url) => {
    const r = await fetchDocument(url, opts());
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('address refused') });
    // The same rule guards a push receiver (SSF stream creation).
    expect(await checkPushEndpoint(url, opts())).toEqual({ ok: false, reason: expect.stringContaining('address refused') });
  });

  it.each([
    ['an IPv4-mapped IPv6 loopback answer', [{ address: '::ffff:127.0.0.1', family: 6 }]],
    ['a NAT64 answer of a private address', [{ address: '64:ff9b::c0a8:101', family: 6 }]],
    ['a link-local IPv6 answer with a zone id', [{ address: 'fe80::1%eth0', family: 6 }]],
    ['an unspecified answer', [{ address: '0.0.0.0', family: 4 }]],
    ['a public AAAA answer beside a private A answer', [{ address: '2606:4700:4700::1111', family: 6 }, { address: '192.168.1.1', family: 4 }]],
    ['an empty answer', []],
  ])('refuses a name whose DNS gives %s, before connecting', async (_what, answer) => {
    let asked = 0;
    const resolve: Resolve = async () => (asked++, answer);
    const r = await fetchDocument(`https://rebind.example:${server.port}/x`, opts({ resolve }));
    expect(r.ok).toBe(false);
    expect(asked).toBe(1);
    expect(server.hits.get('/x')).toBeUndefined();
  });

  it('does not inflate a gzip bomb (Content-Encoding is not decoded): the bytes kept are the compressed ones, within the limit', async () => {
    expect(bomb.length).toBeLessThan(64 * 1024);
    const r = await fetchDocument(`${server.origin}/bomb`, opts({ allowedHosts: new Set([server.host]), maxBytes: 64 * 1024, resolve: undefined }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.document.body.length).toBe(bomb.length);
    expect(() => JSON.parse(r.document.body.toString('utf8'))).toThrow();
  });
});

describe('hostile login: the limits see through other spellings of a username', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0' } });
    await delegatedFixture(app);
  });
  afterAll(() => app.close());

  it('counts failures for ALICE, Alice and aLiCe against alice: the 5-per-account-and-address limit holds, even for the right password', async () => {
    const person = new Person(app.url);
    for (const name of ['ALICE', 'Alice', 'aLiCe', 'alicE', 'ALIce']) {
      expect((await signIn(person, name, 'wrong password')).status).toBe(401);
    }
    const res = await signIn(person, 'alice');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
  });
});

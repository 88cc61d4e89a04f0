/**
 * Hostile requests against the grants (from a security review on 2026-11-30): the refresh grant's
 * hot path, token exchange, private_key_jwt client authentication, the token endpoint's lean path
 * and the resource a token under an existing grant may be asked for (RFC 8707 §2.2), each test named
 * for the attack it tries. Attacks already pinned elsewhere in test/e2e are not repeated here.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { fixedClock } from '../../src/lib/clock.js';
import { Person } from '../helpers/browserless.js';
import { assertionParams, clientAssertion, clientKey, type ClientKey } from '../helpers/client-assertion.js';
import { API, delegatedFixture, grantRow, introspect, obtainCode, PASSWORD, redeem, refresh, REDIRECT, statusBit, type Creds, type Delegated } from '../helpers/delegated.js';
import { dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestApp, type JsonResponse, type TestApp } from '../helpers/test-app.js';
import { createUser } from '../../src/registry/users.js';

const FORM = 'application/x-www-form-urlencoded';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const PRINT = 'https://print.example.com';
const OTHER = 'https://other.example.com';
const basicOf = (c: Creds): [string, string] => [c.client_id, c.client_secret];
const basicHeader = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const expectError = async (res: JsonResponse, status: number, error: string) => {
  expect(res.status).toBe(status);
  expect((await res.json()).error).toBe(error);
};

/** delegatedTokens() for the Photos API named by `resource` (several resources are registered here). */
async function photosTokens(app: TestApp, person: Person, clientId: string, opts: { username?: string; scope?: string } = {}) {
  const { code, verifier } = await obtainCode(person, clientId, { username: opts.username, extra: { resource: API, ...(opts.scope ? { scope: opts.scope } : {}) } });
  const res = await redeem(app, clientId, code, verifier, { resource: API });
  if (res.status !== 200) throw new Error(`redeem answered ${res.status}: ${await res.text()}`);
  const body = await res.json();
  const claims = decodeJwt(body.access_token) as { grant_id: string; status: { status_list: { idx: number } } };
  return { ...body, grant_id: claims.grant_id, status_index: claims.status.status_list.idx } as { access_token: string; refresh_token: string; scope: string; grant_id: string; status_index: number };
}

describe('hostile requests: the refresh grant (RFC 6749 §6, RFC 9700 §4.14.2)', () => {
  const clock = fixedClock(Math.floor(Date.now() / 1000));
  let app: TestApp;
  let fx: Delegated;
  /** A second public app, registered with the same redirect URI: the stranger presenting tokens. */
  let otherSpa: Creds;
  let admin: string;
  let users = 0;
  const newPerson = async () => {
    const username = `reviewer${++users}`;
    await createUser(app.deps, { username, password: PASSWORD });
    return { person: new Person(app.url), username };
  };

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    fx = await delegatedFixture(app);
    otherSpa = await app.client({ name: 'Other app', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read', 'photos:write'] });
    await app.resource({ identifier: OTHER, name: 'Other', scopes: [{ name: 'photos:read' }, { name: 'photos:write' }] });
    admin = await app.adminToken();
  });
  afterAll(() => app.close());

  it('refuses a spent refresh token presented by another client, and that stranger cannot revoke the grant with it', async () => {
    const { person, username } = await newPerson();
    const t = await photosTokens(app, person, fx.spa.client_id, { username });
    const next = await (await refresh(app, fx.spa.client_id, t.refresh_token)).json();
    clock.advance(2);
    // Outside the concurrency window: the owner presenting it would revoke the grant; a stranger must not.
    await expectError(await refresh(app, otherSpa.client_id, t.refresh_token), 400, 'invalid_grant');
    await expectError(await refresh(app, otherSpa.client_id, next.refresh_token), 400, 'invalid_grant');
    expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
    expect((await refresh(app, fx.spa.client_id, next.refresh_token)).status).toBe(200);
  });

  it('refuses a concurrent duplicate of a rotation once the grant was revoked in between (no stored answer handed out)', async () => {
    const { person, username } = await newPerson();
    const t = await photosTokens(app, person, fx.spa.client_id, { username });
    const next = await (await refresh(app, fx.spa.client_id, t.refresh_token)).json();
    // The client revokes (RFC 7009) within the same second, then the spent token comes back.
    const revoked = await app.request('/oauth/revoke', { method: 'POST', headers: { 'Content-Type': FORM }, body: new URLSearchParams({ token: next.refresh_token, client_id: fx.spa.client_id }).toString() });
    expect(revoked.status).toBe(200);
    const again = await refresh(app, fx.spa.client_id, t.refresh_token);
    const body = await again.json();
    expect(again.status).toBe(400);
    expect(body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    expect(await introspect(app, fx.rs, next.access_token)).toEqual({ active: false });
  });

  it('never widens the scope through a repeat within the concurrency window (RFC 6749 §6)', async () => {
    const { person, username } = await newPerson();
    const t = await photosTokens(app, person, fx.spa.client_id, { username, scope: 'photos:read photos:write' });
    const narrowed = await refresh(app, fx.spa.client_id, t.refresh_token, { scope: 'photos:read' });
    expect((await narrowed.json()).scope).toBe('photos:read');
    for (const extra of [{}, { scope: 'photos:write' }, { scope: 'photos:read photos:write' }] as Array<Record<string, string>>) {
      // A concurrent duplicate gets the winner's answer, whatever scope it asks for.
      const res = await refresh(app, fx.spa.client_id, t.refresh_token, extra);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.scope).toBe('photos:read');
      expect(decodeJwt(body.access_token).scope).toBe('photos:read');
    }
  });

  it('refuses a refresh naming another resource than the grant’s with invalid_target, spending nothing (RFC 8707 §2.2)', async () => {
    const { person, username } = await newPerson();
    const t = await photosTokens(app, person, fx.spa.client_id, { username });
    // Another registered API, a malformed value, and two values: each refused, the token left unspent.
    await expectError(await refresh(app, fx.spa.client_id, t.refresh_token, { resource: OTHER }), 400, 'invalid_target');
    await expectError(await refresh(app, fx.spa.client_id, t.refresh_token, { resource: 'not a uri' }), 400, 'invalid_target');
    const twice = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: fx.spa.client_id });
    twice.append('resource', API);
    twice.append('resource', OTHER);
    await expectError(await app.request('/oauth/token', { method: 'POST', headers: { 'Content-Type': FORM }, body: twice.toString() }), 400, 'invalid_target');
    clock.advance(2);
    // Past the concurrency window the same token still rotates: nothing was spent, the grant lives.
    const res = await refresh(app, fx.spa.client_id, t.refresh_token, { resource: API });
    expect(res.status).toBe(200);
    expect(decodeJwt((await res.json()).access_token).aud).toBe(API);
    expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
  });

  it('refuses a code redeemed for another resource than it was asked for with invalid_target, and the code stays redeemable (RFC 8707 §2.2)', async () => {
    const { person, username } = await newPerson();
    const { code, verifier } = await obtainCode(person, fx.spa.client_id, { username, extra: { resource: API } });
    await expectError(await redeem(app, fx.spa.client_id, code, verifier, { resource: OTHER }), 400, 'invalid_target');
    const res = await redeem(app, fx.spa.client_id, code, verifier, { resource: API });
    expect(res.status).toBe(200);
    expect(decodeJwt((await res.json()).access_token).aud).toBe(API);
  });

  it('refuses a confidential client’s refresh once the client is disabled, and its grant is revoked', async () => {
    const server = await app.client({ name: 'Server app', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], scopes: ['photos:read'] });
    const { person, username } = await newPerson();
    const { code, verifier } = await obtainCode(person, server.client_id, { username, extra: { resource: API } });
    const issued = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier!, resource: API }, { basic: basicOf(server) });
    expect(issued.status).toBe(200);
    const tokens = await issued.json();
    const disabled = await app.request(`/admin/clients/${server.client_id}`, { method: 'PATCH', token: admin, json: { disabled: true } });
    expect(disabled.status).toBe(200);
    await expectError(await app.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { basic: basicOf(server) }), 401, 'invalid_client');
    expect(await introspect(app, fx.rs, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(app, fx.rs, tokens.refresh_token)).toEqual({ active: false });
    const grantId = decodeJwt(tokens.access_token).grant_id as string;
    expect((await grantRow(app, grantId)).revoked_at).not.toBeNull();
  });

  describe('DPoP-bound public-client refresh tokens (RFC 9449 §5)', () => {
    let htu: string;
    beforeAll(() => {
      htu = `${app.url}/oauth/token`;
    });
    const proofNow = (k: DpopKey) => proof(k, 'POST', htu, { claims: { iat: clock.now() } });
    const refreshWith = async (token: string, k?: DpopKey) =>
      app.token({ grant_type: 'refresh_token', refresh_token: token, client_id: fx.spa.client_id }, { headers: k ? { DPoP: await proofNow(k) } : {} });

    it('answers a concurrent duplicate carrying a thief’s DPoP key only with tokens bound to the first key', async () => {
      const { person, username } = await newPerson();
      const t = await photosTokens(app, person, fx.spa.client_id, { username });
      const owner = await dpopKey();
      const thief = await dpopKey();
      const first = await refreshWith(t.refresh_token, owner);
      expect(first.status).toBe(200);
      const won = await first.json();
      expect(decodeJwt(won.access_token).cnf).toEqual({ jkt: owner.jkt });
      const dup = await refreshWith(t.refresh_token, thief);
      expect(dup.status).toBe(200);
      {
        const got = await dup.json();
        expect(decodeJwt(got.access_token).cnf).toEqual({ jkt: owner.jkt });
        // The successor handed out is bound to the owner's key: the thief cannot use it.
        await expectError(await refreshWith(got.refresh_token, thief), 400, 'invalid_dpop_proof');
        await expectError(await refreshWith(got.refresh_token), 400, 'invalid_dpop_proof');
      }
      expect((await refreshWith(won.refresh_token, owner)).status).toBe(200);
    });

    it('revokes the grant when the unbound original comes back with another key after its successor was bound', async () => {
      const { person, username } = await newPerson();
      const t = await photosTokens(app, person, fx.spa.client_id, { username });
      const owner = await dpopKey();
      const thief = await dpopKey();
      const won = await (await refreshWith(t.refresh_token, owner)).json();
      clock.advance(2);
      await expectError(await refreshWith(t.refresh_token, thief), 400, 'invalid_grant');
      expect((await grantRow(app, t.grant_id)).revoked_at).not.toBeNull();
      await expectError(await refreshWith(won.refresh_token, owner), 400, 'invalid_grant');
      expect(await statusBit(app, t.status_index)).toBe(1);
    });
  });
});

describe('hostile requests: token exchange (RFC 8693)', () => {
  const clock = fixedClock(Math.floor(Date.now() / 1000));
  let app: TestApp;
  let fx: Delegated;
  let printer: Creds;
  let backend: Creds;

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    fx = await delegatedFixture(app);
    printer = await app.client({ name: 'printer', scopes: ['photos:read', 'photos:write'] });
    backend = await app.client({ name: 'backend', scopes: ['photos:read', 'photos:write'] });
    await app.resource({ identifier: PRINT, name: 'Print', scopes: [{ name: 'photos:read' }, { name: 'photos:write' }], token_exchange_clients: [printer.client_id] });
  });
  afterAll(() => app.close());

  const exchange = (subject: string, extra: Record<string, string> = {}, caller = printer) =>
    app.token({ grant_type: EXCHANGE, subject_token_type: ACCESS_TOKEN, subject_token: subject, resource: PRINT, ...extra }, { basic: basicOf(caller) });

  it('revokes tokens derived by exchange when their subject grant is revoked by refresh-token reuse detection', async () => {
    const t = await photosTokens(app, new Person(app.url), fx.spa.client_id);
    const derived = await exchange(t.access_token);
    expect(derived.status).toBe(200);
    const child = (await derived.json()).access_token as string;
    const grandchild = (await (await exchange(child)).json()).access_token as string;
    await refresh(app, fx.spa.client_id, t.refresh_token);
    clock.advance(2);
    await expectError(await refresh(app, fx.spa.client_id, t.refresh_token), 400, 'invalid_grant');
    expect(await introspect(app, fx.rs, child)).toEqual({ active: false });
    expect(await introspect(app, fx.rs, grandchild)).toEqual({ active: false });
    for (const token of [child, grandchild]) expect(await statusBit(app, (decodeJwt(token) as { status: { status_list: { idx: number } } }).status.status_list.idx)).toBe(1);
    // Neither the revoked subject nor its derived tokens can be exchanged again.
    await expectError(await exchange(t.access_token), 400, 'invalid_request');
    await expectError(await exchange(child), 400, 'invalid_request');
  });

  it('never widens the scope along a chain: a derived token exchanged again carries at most its own scope', async () => {
    const subject = (await (await app.token({ grant_type: 'client_credentials', resource: API, scope: 'photos:read photos:write' }, { basic: basicOf(backend) })).json()).access_token;
    const narrowed = await (await exchange(subject, { scope: 'photos:read' })).json();
    expect(narrowed.scope).toBe('photos:read');
    await expectError(await exchange(narrowed.access_token, { scope: 'photos:write' }), 400, 'invalid_scope');
    const again = await (await exchange(narrowed.access_token)).json();
    expect(again.scope).toBe('photos:read');
  });

  describe('refuses forged subject tokens that name Grantor as issuer (invalid_request, nothing stored)', () => {
    const claims = () => ({ iss: app.issuer, sub: backend.client_id, aud: API, client_id: backend.client_id, scope: 'photos:read', jti: randomUUID(), iat: clock.now(), exp: clock.now() + 600 });
    const realKid = () => app.deps.keyRing.publicJwks()[0].kid as string;
    it.each([
      ['unsigned (alg none)', async () => new UnsecuredJWT(claims()).setIssuer(app.issuer).encode()],
      [
        'an HS256 MAC keyed with the published public key',
        async () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: realKid() }).sign(new TextEncoder().encode(JSON.stringify(app.deps.keyRing.publicJwks()[0]))),
      ],
      [
        'signed by a foreign RSA key under the real kid',
        async () => {
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          return new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: realKid() }).sign(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })));
        },
      ],
    ])('%s', async (_name, forge) => {
      const grants = Number(((await app.deps.db('grants').count({ n: '*' }).first()) as { n: string }).n);
      await expectError(await exchange(await forge()), 400, 'invalid_request');
      expect(Number(((await app.deps.db('grants').count({ n: '*' }).first()) as { n: string }).n)).toBe(grants);
    });
  });
});

describe('hostile requests: private_key_jwt assertions (RFC 7523 §3)', () => {
  const NOW = 1_900_000_000;
  const clock = fixedClock(NOW);
  let app: TestApp;
  let key: ClientKey;
  let clientId: string;
  const assertion = (opts: Parameters<typeof clientAssertion>[3] = {}) => clientAssertion(key, clientId, app.issuer, { now: clock.now(), ...opts });

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    key = await clientKey('ES256');
    ({ client_id: clientId } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, scopes: ['read', 'introspect'] }));
  });
  afterAll(() => app.close());

  it('refuses an assertion replayed at another endpoint (token, then introspection)', async () => {
    const once = await assertion();
    const issued = await app.token({ grant_type: 'client_credentials', resource: API, ...assertionParams(once) });
    expect(issued.status).toBe(200);
    const { access_token } = await issued.json();
    const replay = await app.request('/oauth/introspect', { method: 'POST', headers: { 'Content-Type': FORM }, body: new URLSearchParams({ token: access_token, ...assertionParams(once) }).toString() });
    expect(replay.status).toBe(401);
  });

  it('refuses a freshly signed assertion that reuses an earlier jti', async () => {
    const jti = randomUUID();
    expect((await app.token({ grant_type: 'client_credentials', resource: API, ...assertionParams(await assertion({ claims: { jti } })) })).status).toBe(200);
    clock.advance(1);
    await expectError(await app.token({ grant_type: 'client_credentials', resource: API, ...assertionParams(await assertion({ claims: { jti, exp: clock.now() + 120 } })) }), 401, 'invalid_client');
  });

  it.each([
    ['the issuer with a trailing slash', (iss: string) => `${iss}/`],
    ['the issuer in another case', (iss: string) => iss.toUpperCase()],
    ['the introspection endpoint URL', (iss: string) => `${iss}/oauth/introspect`],
    ['a one-element array holding the issuer', (iss: string) => [iss]],
  ])('refuses an assertion whose aud is %s (RFC 7523 §3 item 3, rfc7523bis)', async (_name, aud) => {
    await expectError(await app.token({ grant_type: 'client_credentials', resource: API, ...assertionParams(await assertion({ claims: { aud: aud(app.issuer) } })) }), 401, 'invalid_client');
  });
});

describe('hostile requests: the token endpoint’s lean path against koa', () => {
  let app: TestApp;
  let creds: Creds;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
  });
  afterAll(() => app.close());

  /** The same request in one piece (the lean path) and chunked (koa). */
  async function bothWays(body: string, headers: Record<string, string>): Promise<[RawResponse, RawResponse]> {
    const lean = await rawRequest(app.url, '/oauth/token', { method: 'POST', headers, body });
    const koa = await rawRequest(app.url, '/oauth/token', { method: 'POST', headers, body: [body.slice(0, 5), body.slice(5)] });
    return [lean, koa];
  }

  it.each([`${FORM};foo`, `${FORM}; charset`, `${FORM}; charset=utf-8; x`, `${FORM}; charset=utf-8;`])(
    'answers a form whose Content-Type carries a malformed parameter (%s) alike on both paths',
    async (type) => {
      const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', { 'Content-Type': type, Authorization: basicHeader(creds.client_id, creds.client_secret) });
      expect(lean.status).toBe(koa.status);
      expect(lean.json().error).toBe(koa.json().error);
    },
  );

});

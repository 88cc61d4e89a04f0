/**
 * Hostile input against every endpoint that exists today: the token endpoint, the metadata and
 * JWKS documents, and the bearer-guarded admin API (standards.md, "Attack classes").
 * Every refusal is a 4xx with an RFC 6749 §5.2 / RFC 6750 §3 JSON body, never a 5xx or a stack
 * trace, and leaves the stored state as it was.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { counts, expectError, hs256Jwt, readAnswer, rs256Jwt, tamper, unsignedJwt } from '../helpers/hostile.js';
import { rawRequest } from '../helpers/raw-http.js';
import { recordChange } from '../../src/store/read-cache.js';
import { insertResource } from '../../src/store/resources.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';
const OTHER = 'https://other.example.com';
const FORM = 'application/x-www-form-urlencoded';
const KiB = 1024;

/** Values an attacker likes: SQL, paths, wildcards, control characters. */
const SQL_AND_PATHS = [
  "' OR '1'='1",
  "x' OR 1=1 --",
  '1; DROP TABLE clients; --',
  '" OR ""="',
  '%',
  '*',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  'file:///etc/passwd',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
];
const CONTROL = ['\u0000', '\r\nSet-Cookie: injected=1', '\r\n\r\n<html>', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u2028', '\u202e', '\ufeff', '\ud800'];

describe('hostile input', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  let basic: [string, string];
  let adminToken: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    app = await startTestApp();
    // Before API defines a scope named admin too: then `scope=admin` alone would be ambiguous.
    adminToken = await app.adminToken();
    // A scope named admin can no longer be registered (Grantor's own name); a database may still hold
    // one from before, as here, written past the registry.
    await insertResource(app.deps.db, { id: randomUUID(), identifier: API, name: 'API', scopes: [{ name: 'read', description: '' }, { name: 'write', description: '' }, { name: 'admin', description: '' }], accessTokenTtl: null, dpopBoundAccessTokens: false, dynamicClientScopes: [], tokenExchangeClients: [], createdAt: now(), updatedAt: now() });
    await recordChange(app.deps.db);
    app.deps.readCache.invalidate();
    await app.resource({ identifier: OTHER, scopes: [{ name: 'report' }] });
    creds = await app.client({ scopes: ['read', 'write'] });
    basic = [creds.client_id, creds.client_secret];
    // The standing grant exists, so a successful request writes nothing either.
    const warm = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic });
    expect(warm.status).toBe(200);
  });
  afterAll(() => app.close());

  const basicHeader = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  /** POSTs a raw body to the token endpoint. */
  const postToken = (body: string | Uint8Array | FormData | undefined, headers: Record<string, string> = { 'Content-Type': FORM }) =>
    fetch(`${app.url}/oauth/token`, { method: 'POST', headers, body });

  /** POSTs a raw form body with valid Basic credentials. */
  const postForm = (body: string, extra: Record<string, string> = {}) =>
    postToken(body, { 'Content-Type': FORM, Authorization: basicHeader(...basic), ...extra });

  /** Runs `attack` and asserts no table changed. */
  async function unchanged<T>(attack: () => Promise<T>): Promise<T> {
    const before = await counts(app);
    const result = await attack();
    expect(await counts(app)).toEqual(before);
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  describe('token endpoint: methods and content types (RFC 6749 §3.2)', () => {
    it.each(['GET', 'PUT', 'PATCH', 'DELETE'])('refuses %s with 400 invalid_request and Allow: POST', async (method) => {
      const res = await fetch(`${app.url}/oauth/token?grant_type=client_credentials&client_id=${creds.client_id}&client_secret=${creds.client_secret}`, { method });
      const answer = await expectError(res, 400, 'invalid_request');
      expect(answer.header('allow')).toBe('POST');
      expect(answer.header('cache-control')).toBe('no-store');
    });

    it('answers OPTIONS as a CORS preflight that admits no unregistered origin, and issues nothing', async () => {
      const grants = await app.deps.db('grants').count({ n: '*' });
      const res = await fetch(`${app.url}/oauth/token?grant_type=client_credentials&client_id=${creds.client_id}&client_secret=${creds.client_secret}`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-methods')).toBeNull();
      expect(await res.text()).toBe('');
      expect(await app.deps.db('grants').count({ n: '*' })).toEqual(grants);
    });

    const form = `grant_type=client_credentials&client_id=${'{id}'}&client_secret=${'{secret}'}`;
    const validForm = () => form.replace('{id}', creds.client_id).replace('{secret}', creds.client_secret);

    it.each([
      ['application/json', () => JSON.stringify({ grant_type: 'client_credentials', client_id: creds.client_id, client_secret: creds.client_secret })],
      ['text/plain', validForm],
      ['text/html', validForm],
      ['application/xml', () => '<grant_type>client_credentials</grant_type>'],
      ['application/x-www-form-urlencodedx', validForm],
      ['multipart/form-data; boundary=x', () => `--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--\r\n`],
    ])('refuses Content-Type %s with 400 invalid_request', async (type, body) => {
      await unchanged(async () => expectError(await postToken(body(), { 'Content-Type': type }), 400, 'invalid_request'));
    });

    it('refuses a real multipart body built by fetch', async () => {
      const fd = new FormData();
      fd.set('grant_type', 'client_credentials');
      fd.set('client_id', creds.client_id);
      fd.set('client_secret', creds.client_secret);
      await expectError(await postToken(fd, {}), 400, 'invalid_request');
    });

    it('refuses a body without any Content-Type', async () => {
      const res = await rawRequest(app.url, '/oauth/token', { method: 'POST', headers: { 'Content-Length': String(Buffer.byteLength(validForm())) }, body: validForm() });
      await expectError(res, 400, 'invalid_request');
    });

    it('refuses a POST without a body', async () => {
      await expectError(await postToken(undefined, {}), 400, 'invalid_request');
      await expectError(await postToken('', { 'Content-Type': FORM }), 400, 'invalid_request');
    });

    it('reads a JSON text sent as a form as one unknown parameter, so grant_type is missing', async () => {
      const res = await postForm(JSON.stringify({ grant_type: 'client_credentials' }));
      const { body } = await expectError(res, 400, 'invalid_request');
      expect(body.error_description).toMatch(/grant_type/);
    });

    it('refuses a body over the 64 KiB limit with 413 invalid_request', async () => {
      const body = `grant_type=client_credentials&pad=${'a'.repeat(65 * KiB)}`;
      await unchanged(async () => expectError(await postForm(body), 413, 'invalid_request'));
    });

    it('refuses an oversized chunked body (no Content-Length) with 413 invalid_request', async () => {
      const chunk = 'a'.repeat(8 * KiB);
      const res = await rawRequest(app.url, '/oauth/token', {
        method: 'POST',
        headers: { 'Content-Type': FORM, 'Transfer-Encoding': 'chunked', Authorization: basicHeader(...basic) },
        body: ['grant_type=client_credentials&pad=', ...Array(10).fill(chunk)],
      });
      await expectError(res, 413, 'invalid_request');
    });

    it('refuses a gzip bomb: the limit counts inflated bytes', async () => {
      const bomb = gzipSync(Buffer.from(`grant_type=client_credentials&pad=${'a'.repeat(1024 * KiB)}`));
      expect(bomb.length).toBeLessThan(4 * KiB);
      const res = await rawRequest(app.url, '/oauth/token', {
        method: 'POST',
        headers: { 'Content-Type': FORM, 'Content-Encoding': 'gzip', 'Content-Length': String(bomb.length), Authorization: basicHeader(...basic) },
        body: bomb,
      });
      await expectError(res, 413, 'invalid_request');
    });

    it('refuses a body that is not the gzip it claims to be, and an unknown content coding', async () => {
      const junk = Buffer.from('grant_type=client_credentials');
      const notGzip = await rawRequest(app.url, '/oauth/token', {
        method: 'POST',
        headers: { 'Content-Type': FORM, 'Content-Encoding': 'gzip', 'Content-Length': String(junk.length), Authorization: basicHeader(...basic) },
        body: junk,
      });
      await expectError(notGzip, 400, 'invalid_request');
      const unknown = await rawRequest(app.url, '/oauth/token', {
        method: 'POST',
        headers: { 'Content-Type': FORM, 'Content-Encoding': 'x-hostile', 'Content-Length': String(junk.length), Authorization: basicHeader(...basic) },
        body: junk,
      });
      await expectError(unknown, 415, 'invalid_request');
    });

    it('refuses oversized headers before any handler runs (Node answers 431)', async () => {
      const res = await rawRequest(app.url, '/oauth/token', { method: 'POST', headers: { 'Content-Type': FORM, 'X-Pad': 'a'.repeat(20 * KiB) }, body: 'grant_type=client_credentials' });
      expect(res.status).toBe(431);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('token endpoint: parameters (RFC 6749 §3.1)', () => {
    it.each([
      ['grant_type', 'grant_type=client_credentials&grant_type=client_credentials'],
      ['grant_type', 'grant_type=client_credentials&grant_type=password'],
      ['scope', 'grant_type=client_credentials&scope=read&scope=write'],
      ['scope', 'grant_type=client_credentials&scope=read&scope=read'],
    ])('refuses %s sent twice with 400 invalid_request naming it', async (name, body) => {
      const { body: err } = await unchanged(async () => expectError(await postForm(body), 400, 'invalid_request'));
      expect(err.error_description).toContain(name);
    });

    it('refuses client_id and client_secret sent twice', async () => {
      const id = `grant_type=client_credentials&client_id=${creds.client_id}&client_id=${creds.client_id}&client_secret=${creds.client_secret}`;
      expect((await expectError(await postToken(id), 400, 'invalid_request')).body.error_description).toContain('client_id');
      const secret = `grant_type=client_credentials&client_id=${creds.client_id}&client_secret=${creds.client_secret}&client_secret=x`;
      expect((await expectError(await postToken(secret), 400, 'invalid_request')).body.error_description).toContain('client_secret');
    });

    it('refuses two resource parameters with invalid_target (one audience per token, RFC 8707 §2)', async () => {
      await unchanged(async () => expectError(await postForm(`grant_type=client_credentials&scope=read&resource=${API}&resource=${OTHER}`), 400, 'invalid_target'));
    });

    it('treats an empty duplicate as omitted (§3.1: parameters without a value are omitted)', async () => {
      const res = await postForm('grant_type=client_credentials&scope=read&grant_type=&scope=');
      expect(res.status).toBe(200);
    });

    it('ignores unknown parameters and never echoes them, on success or on error', async () => {
      const hostile = {
        evil: '<script>alert(1)</script>',
        __proto__: 'polluted',
        constructor: 'x',
        'a[b]': 'nested',
        'scope.x': 'dotted',
        access_token: 'smuggled',
        refresh_token: 'smuggled-too',
      };
      const extra = Object.entries(hostile).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      const ok = await postForm(`grant_type=client_credentials&scope=read&${extra}`);
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(Object.keys(JSON.parse(text)).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
      for (const value of ['<script>', 'polluted', 'nested', 'dotted', 'smuggled', 'evil']) expect(text).not.toContain(value);

      const refused = await postForm(`grant_type=client_credentials&scope=write%20admin&${extra}`);
      const { text: errText } = await expectError(refused, 400, 'invalid_scope');
      for (const value of ['<script>', 'polluted', 'nested', 'dotted', 'smuggled', 'evil']) expect(errText).not.toContain(value);
    });

    it('refuses a repeated parameter without reflecting a hostile name', async () => {
      const name = encodeURIComponent('<img src=x onerror=alert(1)>\r\n');
      const { text, header } = await expectError(await postForm(`grant_type=client_credentials&${name}=1&${name}=2`), 400, 'invalid_request');
      expect(text).not.toMatch(/[<>]|onerror|img|\\r|\\n/);
      expect(header('set-cookie')).toBeNull();
    });

    it.each([
      ['a stray %', 'grant_type=client_credentials&scope=read%'],
      ['a % with one hex digit', 'grant_type=client_credentials&scope=read%2'],
      ['a % with non-hex digits', 'grant_type=client_credentials&scope=%ZZread'],
      ['an invalid UTF-8 byte', 'grant_type=client_credentials&scope=read%FF'],
      ['a truncated UTF-8 sequence', 'grant_type=client_credentials&scope=%E0%A4'],
      ['an overlong UTF-8 encoding of /', 'grant_type=client_credentials&scope=%C0%AF'],
      ['an encoded UTF-16 surrogate', 'grant_type=client_credentials&scope=%ED%A0%80'],
      ['bad percent-encoding in a name', 'grant_type=client_credentials&sc%ope=read'],
      ['bad percent-encoding in client_id', 'grant_type=client_credentials&client_id=%G1'],
    ])('refuses %s with 400 invalid_request', async (_what, body) => {
      await unchanged(async () => expectError(await postForm(body), 400, 'invalid_request'));
    });

    describe.each(CONTROL.map((c) => [JSON.stringify(c), c]))('a control character %s in a value', (_label, c) => {
      const injected = (res: { header(name: string): string | null }) => {
        expect(res.header('set-cookie')).toBeNull();
        expect(res.header('injected')).toBeNull();
      };
      it('in grant_type → unsupported_grant_type', async () => {
        injected(await unchanged(async () => expectError(await postForm(new URLSearchParams({ grant_type: `client_credentials${c}` }).toString()), 400, 'unsupported_grant_type')));
      });
      it('in scope → invalid_scope', async () => {
        injected(await unchanged(async () => expectError(await postForm(new URLSearchParams({ grant_type: 'client_credentials', scope: `read${c}` }).toString()), 400, 'invalid_scope')));
      });
      it('in resource → invalid_target', async () => {
        injected(await unchanged(async () => expectError(await postForm(new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: `${API}/${c}` }).toString()), 400, 'invalid_target')));
      });
      it('in client_id → invalid_client, without a challenge (no Authorization header was sent)', async () => {
        const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: `${creds.client_id}${c}`, client_secret: creds.client_secret }).toString();
        const answer = await unchanged(async () => expectError(await postToken(body), 401, 'invalid_client'));
        injected(answer);
        expect(answer.header('www-authenticate')).toBeNull();
      });
      it('in client_secret → invalid_client', async () => {
        const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.client_id, client_secret: `${creds.client_secret}${c}` }).toString();
        injected(await unchanged(async () => expectError(await postToken(body), 401, 'invalid_client')));
      });
    });

    describe('a 60 KB value, within the body limit', () => {
      const huge = 'a'.repeat(60 * KiB);
      it('as one scope token → invalid_scope', async () => {
        await unchanged(async () => expectError(await postForm(`grant_type=client_credentials&scope=${huge}`), 400, 'invalid_scope'));
      });
      it('as 30 000 scope tokens → invalid_scope', async () => {
        await unchanged(async () => expectError(await postForm(`grant_type=client_credentials&scope=${'a+'.repeat(30_000)}`), 400, 'invalid_scope'));
      });
      it('as grant_type → unsupported_grant_type', async () => {
        await unchanged(async () => expectError(await postForm(`grant_type=${huge}`), 400, 'unsupported_grant_type'));
      });
      it('as resource → invalid_target', async () => {
        await unchanged(async () => expectError(await postForm(`grant_type=client_credentials&scope=read&resource=https://${huge}.example.com/`), 400, 'invalid_target'));
      });
      it('as client_id or client_secret → invalid_client', async () => {
        await unchanged(async () => expectError(await postToken(`grant_type=client_credentials&client_id=${huge}&client_secret=x`), 401, 'invalid_client'));
        await unchanged(async () => expectError(await postToken(`grant_type=client_credentials&client_id=${creds.client_id}&client_secret=${huge}`), 401, 'invalid_client'));
      });
      it('as an unknown parameter → ignored', async () => {
        expect((await postForm(`grant_type=client_credentials&scope=read&pad=${huge}`)).status).toBe(200);
      });
    });

    it.each(SQL_AND_PATHS)('refuses the SQL- or path-looking client_id %j with invalid_client and changes nothing', async (id) => {
      await unchanged(async () => {
        const viaBody = await postToken(new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: creds.client_secret }).toString());
        await expectError(viaBody, 401, 'invalid_client');
        const viaBasic = await postToken('grant_type=client_credentials', { 'Content-Type': FORM, Authorization: basicHeader(id, creds.client_secret) });
        const answer = await expectError(viaBasic, 401, 'invalid_client');
        expect(answer.header('www-authenticate')).toMatch(/^Basic realm="grantor"/);
      });
      expect(await app.deps.db('clients').where({ client_id: creds.client_id })).toHaveLength(1);
    });

    it('refuses scope escalation: a scope the client was not given, or the admin API', async () => {
      await unchanged(async () => {
        await expectError(await postForm('grant_type=client_credentials&scope=read%20admin'), 400, 'invalid_scope');
        await expectError(await postForm(`grant_type=client_credentials&scope=admin&resource=${encodeURIComponent(`${app.issuer}/admin`)}`), 400, 'invalid_scope');
        await expectError(await postForm(`grant_type=client_credentials&resource=${encodeURIComponent(`${app.issuer}/admin`)}`), 400, 'invalid_scope');
        await expectError(await postForm(`grant_type=client_credentials&scope=report&resource=${OTHER}`), 400, 'invalid_scope');
      });
    });

    it("refuses another client's credentials", async () => {
      const other = await app.client({ scopes: ['read'] });
      await unchanged(async () => {
        await expectError(await postToken(`grant_type=client_credentials&client_id=${creds.client_id}&client_secret=${other.client_secret}`), 401, 'invalid_client');
        // Basic for one client, body client_id naming another.
        await expectError(await postForm(`grant_type=client_credentials&client_id=${other.client_id}`), 400, 'invalid_request');
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('token endpoint: malformed Basic credentials (RFC 6749 §2.3.1, §5.2)', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    it.each([
      ['no colon', () => `Basic ${b64(creds.client_id)}`],
      ['bad base64 characters', () => 'Basic !!!$$$***'],
      ['base64 of the wrong length', () => 'Basic abc'],
      ['an empty client id', () => `Basic ${b64(`:${creds.client_secret}`)}`],
      ['nothing after the scheme', () => 'Basic'],
      ['bad percent-encoding inside', () => `Basic ${b64(`%ZZ:${creds.client_secret}`)}`],
      ['a NUL inside', () => `Basic ${b64(`${creds.client_id}\u0000:${creds.client_secret}`)}`],
      ['a wrong secret', () => basicHeader(creds.client_id, 'wrong')],
      ['an empty secret', () => basicHeader(creds.client_id, '')],
      ['10 KB of base64', () => `Basic ${b64('a'.repeat(7 * KiB))}`],
      ['another scheme (Bearer)', () => `Bearer ${adminToken}`],
      ['another scheme (Digest)', () => 'Digest username="x", realm="grantor", response="y"'],
      ['a bare token', () => creds.client_secret],
    ])('refuses %s with 401 invalid_client and a Basic challenge', async (_what, header) => {
      const res = await unchanged(async () => postToken('grant_type=client_credentials&scope=read', { 'Content-Type': FORM, Authorization: header() }));
      const answer = await expectError(res, 401, 'invalid_client');
      expect(answer.header('www-authenticate')).toBe('Basic realm="grantor", charset="UTF-8"');
    });

    it('accepts the scheme name in any case (RFC 7235 §2.1)', async () => {
      const res = await postToken('grant_type=client_credentials&scope=read', { 'Content-Type': FORM, Authorization: basicHeader(...basic).replace('Basic', 'bAsIc') });
      expect(res.status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('metadata and JWKS', () => {
    const DOCS = ['/.well-known/oauth-authorization-server', '/.well-known/jwks.json'];

    it.each(DOCS.flatMap((p) => ['POST', 'PUT', 'DELETE', 'PATCH'].map((m) => [m, p])))('refuses %s %s with a JSON 404 and changes nothing', async (method, p) => {
      await unchanged(async () =>
        expectError(await fetch(`${app.url}${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: '{"keys":[]}' }), 404, 'not_found'),
      );
    });

    it.each(DOCS)('ignores a hostile query string on %s', async (p) => {
      const plain = await (await fetch(`${app.url}${p}`)).text();
      const res = await fetch(`${app.url}${p}?%ZZ=%FF&issuer=https://evil.example&__proto__[x]=1&${'q'.repeat(4 * KiB)}=1`, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(plain);
    });

    // Raw paths: fetch() would resolve %2e%2e and ../ before sending.
    it.each([
      '/.well-known/%2e%2e/oauth/token',
      '/.well-known/../oauth/token',
      '/.well-known/jwks.json%00',
      '/.well-known/jwks.json;.js',
      '/.well-known/oauth-authorization-server/..%2f..%2fetc%2fpasswd',
      '/.well-known/openid-configuration',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/oauth/token%2f..%2f.well-known%2fjwks.json',
    ])('answers the path trick %s with a JSON 404, not a redirect', async (p) => {
      await expectError(await rawRequest(app.url, p), 404, 'not_found');
    });

    it('survives hostile If-None-Match values', async () => {
      for (const value of ['*', 'W/"x", "y", '.repeat(500), `"${'a'.repeat(8 * KiB)}"`, '"unterminated', ',,,,']) {
        const res = await rawRequest(app.url, '/.well-known/jwks.json', { headers: { 'If-None-Match': value } });
        expect([200, 304]).toContain(res.status);
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('admin API: bearer authentication (RFC 6750, RFC 9068 §4)', () => {
    const ADMIN = () => `${app.issuer}/admin`;
    const adminGet = (authorization?: string) =>
      fetch(`${app.url}/admin/clients`, { headers: authorization === undefined ? {} : { Authorization: authorization } });
    // The grant and client of the real admin token: Grantor accepts only tokens of a live grant of
    // a live client (issue #10), so a made-up grant would hide the claim being tested.
    const live = () => JSON.parse(Buffer.from(adminToken.split('.')[1], 'base64url').toString()) as { client_id: string; grant_id: string };
    const claims = (over: Record<string, unknown> = {}) => ({
      iss: app.issuer,
      sub: live().client_id,
      aud: ADMIN(),
      exp: now() + 600,
      iat: now(),
      jti: randomUUID(),
      client_id: live().client_id,
      scope: 'admin',
      grant_id: live().grant_id,
      ...over,
    });
    const header = (over: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'at+jwt', kid: app.deps.keyRing.signingKey().kid, ...over });
    /** Signed with Grantor's own key: isolates claim and header checks from the signature check. */
    const signed = (h: object | string, p: object | string) => rs256Jwt(app.deps.keyRing.signingKey().privateKey, h, p);

    async function expectInvalidToken(authorization: string) {
      const answer = await unchanged(async () => expectError(await adminGet(authorization), 401, 'invalid_token'));
      expect(answer.header('www-authenticate')).toMatch(/^Bearer realm="grantor-admin", error="invalid_token"/);
      return answer;
    }

    it('accepts a real admin token, and a token Grantor itself signed with the right claims (controls)', async () => {
      expect((await adminGet(`Bearer ${adminToken}`)).status).toBe(200);
      expect((await adminGet(`Bearer ${await signed(header(), claims())}`)).status).toBe(200);
    });

    it('answers a missing token with 401 and a bare Bearer challenge (§3.1: no error code)', async () => {
      const answer = await expectError(await adminGet(), 401, 'invalid_token');
      expect(answer.header('www-authenticate')).toBe('Bearer realm="grantor-admin"');
    });

    it('does not accept the token in the query string or a form body (§2.2, §2.3)', async () => {
      const query = await expectError(await fetch(`${app.url}/admin/clients?access_token=${adminToken}`), 401, 'invalid_token');
      expect(query.header('www-authenticate')).toBe('Bearer realm="grantor-admin"');
      const form = await unchanged(async () =>
        fetch(`${app.url}/admin/clients`, { method: 'POST', headers: { 'Content-Type': FORM }, body: `access_token=${adminToken}&name=x` }),
      );
      expect((await expectError(form, 401, 'invalid_token')).header('www-authenticate')).toBe('Bearer realm="grantor-admin"');
    });

    it('accepts the scheme in any case and more than one space (RFC 6750 §2.1: "Bearer" 1*SP b64token)', async () => {
      for (const h of [`bearer ${adminToken}`, `BEARER ${adminToken}`, `Bearer  ${adminToken}`]) {
        expect((await adminGet(h)).status).toBe(200);
      }
    });

    it.each([
      ['the scheme alone', () => 'Bearer'],
      ['a tab instead of a space', () => `Bearer\t${adminToken}`],
      ['two tokens', () => `Bearer ${adminToken} ${adminToken}`],
      ['a quoted token', () => `Bearer "${adminToken}"`],
      ['Basic credentials', () => `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}`],
      ['another scheme', () => `Token ${adminToken}`],
      ['a token with characters outside b64token', () => `Bearer ${adminToken}!`],
      ['a non-JWT token', () => 'Bearer abc'],
      ['two segments', () => `Bearer ${adminToken.split('.').slice(0, 2).join('.')}`],
      ['four segments', () => `Bearer ${adminToken}.x`],
      ['a 10 KB token', () => `Bearer ${'a'.repeat(10 * KiB)}`],
      ['a header that is not JSON', () => `Bearer bm90IGpzb24.${adminToken.split('.')[1]}.${adminToken.split('.')[2]}`],
    ])('refuses %s with 401 invalid_token', async (_what, h) => {
      await expectInvalidToken(h());
    });

    describe('forged tokens', () => {
      let trap: http.Server;
      let trapUrl: string;
      let trapHits = 0;
      let foreign: { privateKey: CryptoKey; jwk: Record<string, unknown> };

      beforeAll(async () => {
        const pair = await generateKeyPair('RS256', { extractable: true });
        foreign = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), alg: 'RS256', use: 'sig' } };
        // A key server an attacker controls: Grantor must never fetch from it.
        trap = http.createServer((_req, res) => {
          trapHits++;
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ keys: [{ ...foreign.jwk, kid: app.deps.keyRing.signingKey().kid }] }));
        });
        await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
        trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/jwks.json`;
      });
      afterAll(() => new Promise<void>((resolve) => trap.close(() => resolve())));

      it.each([
        ['none', ''],
        ['none', 'c2lnbmF0dXJl'],
        ['None', ''],
        ['NONE', ''],
      ])('refuses alg %j (signature %j)', async (alg, signature) => {
        await expectInvalidToken(`Bearer ${unsignedJwt(header({ alg }), claims(), signature)}`);
      });

      it('refuses HS256 keyed with the public key as PEM, as JWK JSON, and as its modulus', async () => {
        const jwk = app.deps.keyRing.publicJwks()[0];
        const pem = createPublicKey({ key: { ...jwk }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
        const pkcs1 = createPublicKey({ key: { ...jwk }, format: 'jwk' }).export({ type: 'pkcs1', format: 'pem' }).toString();
        for (const secret of [pem, pem.trim(), pkcs1, JSON.stringify(jwk), Buffer.from(jwk.n, 'base64url'), jwk.n]) {
          await expectInvalidToken(`Bearer ${hs256Jwt(header({ alg: 'HS256' }), claims(), secret)}`);
        }
      });

      it('refuses a tampered payload: a read token turned into an admin one, an extended expiry', async () => {
        const res = await app.token({ grant_type: 'client_credentials', scope: 'read', resource: API }, { basic });
        const { access_token } = await res.json();
        await expectInvalidToken(`Bearer ${tamper(access_token, (c) => ({ ...c, aud: ADMIN(), scope: 'admin' }))}`);
        await expectInvalidToken(`Bearer ${tamper(adminToken, (c) => ({ ...c, exp: (c.exp as number) + 86400 }))}`);
        await expectInvalidToken(`Bearer ${tamper(adminToken, (c) => ({ ...c, sub: 'someone-else' }))}`);
      });

      it('refuses a token signed by a foreign key that claims the real kid', async () => {
        await expectInvalidToken(`Bearer ${await rs256Jwt(foreign.privateKey, header(), claims())}`);
      });

      it('ignores embedded jwk, jku, x5u and x5c headers and never fetches a key from the token', async () => {
        const kid = app.deps.keyRing.signingKey().kid;
        const forged = [
          header({ jwk: foreign.jwk }),
          header({ jwk: foreign.jwk, kid: undefined }),
          header({ jwk: { ...foreign.jwk, kid }, kid }),
          header({ jku: trapUrl }),
          header({ jku: trapUrl, kid: 'attacker' }),
          header({ x5u: trapUrl }),
          header({ x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }),
        ];
        for (const h of forged) await expectInvalidToken(`Bearer ${await rs256Jwt(foreign.privateKey, h, claims())}`);
        expect(trapHits).toBe(0);
      });

      it.each([
        ['../../etc/passwd', '../../etc/passwd'],
        ['a 4 KB kid', 'k'.repeat(4 * KiB)],
        ['SQL', "' OR '1'='1' --"],
        ['a NUL', 'abc\u0000def'],
        ['__proto__', '__proto__'],
        ['constructor', 'constructor'],
        ['an empty string', ''],
        ['a number', 1],
        ['an object', { $ne: null }],
        ['an array holding the real kid', 'REAL_KID_IN_AN_ARRAY'],
        ['null', null],
      ])('refuses a hostile kid (%s), even on a token signed with the real key', async (_what, kid) => {
        const value = kid === 'REAL_KID_IN_AN_ARRAY' ? [app.deps.keyRing.signingKey().kid] : kid;
        await expectInvalidToken(`Bearer ${await signed(header({ kid: value }), claims())}`);
      });

      it('refuses a crit header Grantor does not understand (RFC 7515 §4.1.11)', async () => {
        await expectInvalidToken(`Bearer ${await signed(header({ crit: ['exp'], exp: 1 }), claims())}`);
        await expectInvalidToken(`Bearer ${await signed(header({ crit: ['urn:x:hostile'], 'urn:x:hostile': true }), claims())}`);
      });

      it('refuses an alg header that does not match the RS256 signature', async () => {
        for (const alg of ['RS512', 'PS256', 'ES256', 'rs256']) await expectInvalidToken(`Bearer ${await signed(header({ alg }), claims())}`);
      });

      it('refuses headers and payloads that are not JSON objects', async () => {
        for (const [h, p] of [['[]', claims()], ['"RS256"', claims()], [header(), '[]'], [header(), 'null'], [header(), '1'], [header(), '{"iss":']] as const) {
          await expectInvalidToken(`Bearer ${await signed(h, p)}`);
        }
      });
    });

    describe('claims (signed with the real key)', () => {
      it.each([
        ['expired an hour ago', () => ({ exp: now() - 3600, iat: now() - 4200 })],
        ['expired 30 s ago', () => ({ exp: now() - 30 })],
        // No leeway: Grantor reads its own tokens by its own clock, as introspection always did.
        ['exp at this very second', () => ({ exp: now() })],
        ['not valid before an hour from now (nbf)', () => ({ nbf: now() + 3600 })],
        ['exp as a string', () => ({ exp: String(now() + 600) })],
        ['iat as a string', () => ({ iat: 'yesterday' })],
        ['a foreign issuer', () => ({ iss: 'https://evil.example' })],
        ['the issuer with a trailing slash', () => ({ iss: `${app.issuer}/` })],
        ['the issuer in upper case', () => ({ iss: app.issuer.toUpperCase() })],
        ['the issuer as an array', () => ({ iss: [app.issuer] })],
        ['no exp', () => ({ exp: undefined })],
        ['no iat', () => ({ iat: undefined })],
        ['no sub', () => ({ sub: undefined })],
        ['no jti', () => ({ jti: undefined })],
        ['no client_id', () => ({ client_id: undefined })],
        ['no iss', () => ({ iss: undefined })],
      ] as Array<[string, () => Record<string, unknown>]>)('refuses a token with %s', async (_what, over) => {
        await expectInvalidToken(`Bearer ${await signed(header(), claims(over()))}`);
      });

      it.each([
        ['JWT', { typ: 'JWT' }],
        ['no typ', { typ: undefined }],
        ['application/jwt', { typ: 'application/jwt' }],
        ['statuslist+jwt', { typ: 'statuslist+jwt' }],
        ['at+jwt with a suffix', { typ: 'at+jwt; x' }],
      ])('refuses typ %s (RFC 9068 §4)', async (_what, over) => {
        await expectInvalidToken(`Bearer ${await signed(header(over), claims())}`);
      });

      it('accepts iat in the future when exp and nbf are fine (decision: iat is informational, RFC 7519 §4.1.6)', async () => {
        // Only Grantor's own key can make such a token; jose and oauth4webapi accept it too.
        expect((await adminGet(`Bearer ${await signed(header(), claims({ iat: now() + 3600, exp: now() + 4200 }))}`)).status).toBe(200);
      });

      // Grantor's decision (commit 2c86383): a genuine token of this issuer for another audience is
      // valid but not enough here → 403 insufficient_scope, so the client learns to ask for admin.
      async function expectWrongAudience(authorization: string) {
        const answer = await unchanged(async () => expectError(await adminGet(authorization), 403, 'insufficient_scope'));
        expect(answer.header('www-authenticate')).toBe('Bearer realm="grantor-admin", error="insufficient_scope", scope="admin"');
      }

      it.each([
        ['another audience', () => ({ aud: API })],
        ['an audience that only starts like the admin API', () => ({ aud: `${app.issuer}/admin/../x` })],
        ['the admin audience with a trailing slash', () => ({ aud: `${app.issuer}/admin/` })],
        ['an audience list without the admin API', () => ({ aud: [API, OTHER] })],
        ['no audience', () => ({ aud: undefined })],
      ] as Array<[string, () => Record<string, unknown>]>)('does not open the admin API to a token with %s, even with scope admin', async (_what, over) => {
        await expectWrongAudience(`Bearer ${await signed(header(), claims(over()))}`);
      });

      it('does not open the admin API to a real token for another resource, even one whose scope is named admin', async () => {
        const res = await app.token({ grant_type: 'client_credentials', scope: 'read', resource: API }, { basic });
        await expectWrongAudience(`Bearer ${(await res.json()).access_token}`);
        const lookalike = await app.client({ scopes: ['admin'] });
        const sameName = await app.token({ grant_type: 'client_credentials', scope: 'admin', resource: API }, { basic: [lookalike.client_id, lookalike.client_secret] });
        expect(sameName.status).toBe(200);
        const { access_token } = await sameName.json();
        expect(JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString())).toMatchObject({ aud: API, scope: 'admin' });
        await expectWrongAudience(`Bearer ${access_token}`);
      });

      it.each([
        ['no scope claim', { scope: undefined }],
        ['an empty scope', { scope: '' }],
        ['another scope', { scope: 'read write' }],
        ['Admin in another case', { scope: 'Admin' }],
        ['a scope that contains admin', { scope: 'administrator admin:write' }],
        ['admin as an array', { scope: ['admin'] }],
      ])('answers a valid admin-audience token with %s with 403 insufficient_scope', async (_what, over) => {
        const res = await unchanged(async () => adminGet(`Bearer ${await signed(header(), claims(over))}`));
        const answer = await expectError(res, 403, 'insufficient_scope');
        expect(answer.header('www-authenticate')).toBe('Bearer realm="grantor-admin", error="insufficient_scope", scope="admin"');
      });

      it('guards writes too: a forged token creates, changes and deletes nothing', async () => {
        const forged = `Bearer ${unsignedJwt(header({ alg: 'none' }), claims())}`;
        const headers = { Authorization: forged, 'Content-Type': 'application/json' };
        await unchanged(async () => {
          await expectError(await fetch(`${app.url}/admin/clients`, { method: 'POST', headers, body: JSON.stringify({ name: 'evil', scopes: ['admin'] }) }), 401, 'invalid_token');
          await expectError(await fetch(`${app.url}/admin/clients/${creds.client_id}`, { method: 'PATCH', headers, body: JSON.stringify({ scopes: ['admin'] }) }), 401, 'invalid_token');
          await expectError(await fetch(`${app.url}/admin/clients/${creds.client_id}`, { method: 'DELETE', headers }), 401, 'invalid_token');
          await expectError(await fetch(`${app.url}/admin/clients/${creds.client_id}/secret`, { method: 'POST', headers }), 401, 'invalid_token');
        });
        const row = await app.deps.db('clients').where({ client_id: creds.client_id }).first();
        expect(JSON.parse(row.scopes)).toEqual(['read', 'write']);
        expect((await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic })).status).toBe(200);
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('admin API: request bodies and identifiers', () => {
    const send = (method: string, p: string, body: string | undefined, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
      fetch(`${app.url}${p}`, { method, headers: { Authorization: `Bearer ${adminToken}`, ...headers }, body });
    const post = (p: string, json: unknown) => send('POST', p, JSON.stringify(json));

    it('creates a client and a resource from valid bodies (controls)', async () => {
      const c = await post('/admin/clients', { name: 'ok' });
      expect(c.status).toBe(201);
      const r = await post('/admin/resources', { identifier: 'https://ok.example.com', name: 'ok' });
      expect(r.status).toBe(201);
    });

    it.each([
      ['text/plain', '{"name":"x"}'],
      ['application/x-www-form-urlencoded', 'name=x'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--\r\n'],
      ['application/xml', '<name>x</name>'],
      ['application/jsonx', '{"name":"x"}'],
      ['application/merge-patch+json', '{"name":"x"}'],
    ])('refuses Content-Type %s on POST /admin/clients with 415 invalid_request', async (type, body) => {
      await unchanged(async () => expectError(await send('POST', '/admin/clients', body, { 'Content-Type': type }), 415, 'invalid_request'));
    });

    it('refuses a body without any Content-Type with 415', async () => {
      const body = '{"name":"x"}';
      const res = await rawRequest(app.url, '/admin/clients', {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Length': String(body.length) },
        body,
      });
      await unchanged(async () => expectError(res, 415, 'invalid_request'));
    });

    it.each([
      ['a truncated object', '{"name":'],
      ['a trailing comma', '{"name":"x",}'],
      ['single quotes', "{'name':'x'}"],
      ['a bare string', '"name"'],
      ['null', 'null'],
      ['a number', '42'],
      ['a NUL byte', '\u0000'],
      ['two documents', '{"name":"x"}{"name":"y"}'],
      ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ])('refuses malformed JSON (%s) with 400 invalid_request', async (_what, body) => {
      await unchanged(async () => expectError(await send('POST', '/admin/clients', body), 400, 'invalid_request'));
    });

    it('refuses a JSON body over the limit with 413 invalid_request', async () => {
      await unchanged(async () => expectError(await post('/admin/clients', { name: 'x', pad: 'a'.repeat(65 * KiB) }), 413, 'invalid_request'));
    });

    it('refuses an empty body with invalid_request naming the body', async () => {
      const { body } = await unchanged(async () => expectError(await send('POST', '/admin/clients', undefined, {}), 400, 'invalid_request'));
      expect(body.error_description).toMatch(/^body: /);
    });

    /** [path, body, field named in error_description] */
    const CLIENT_CASES: Array<[string, unknown, string]> = [
      ['an array instead of an object', [{ name: 'x' }], 'body'],
      ['name as a number', { name: 123 }, 'name'],
      ['name as an object', { name: { $gt: '' } }, 'name'],
      ['name missing', { scopes: ['read'] }, 'name'],
      ['a blank name', { name: '   ' }, 'name'],
      ['a 10 000 character name', { name: 'n'.repeat(10_000) }, 'name'],
      ['an unknown type', { name: 'x', type: 'superuser' }, 'type'],
      ['grant_types as a string', { name: 'x', grant_types: 'client_credentials' }, 'grant_types'],
      ['the implicit grant', { name: 'x', grant_types: ['implicit'] }, 'grant_types.0'],
      ['the password grant', { name: 'x', grant_types: ['password'] }, 'grant_types.0'],
      ['no grant type', { name: 'x', grant_types: [] }, 'grant_types'],
      ['a public client with client_credentials', { name: 'x', type: 'public', grant_types: ['client_credentials'] }, 'grant_types'],
      ['authorization_code without redirect URIs', { name: 'x', grant_types: ['authorization_code'] }, 'redirect_uris'],
      ['scopes as an object', { name: 'x', scopes: { 0: 'read' } }, 'scopes'],
      ['a scope with a space', { name: 'x', scopes: ['read write'] }, 'scopes.0'],
      ['a scope with a quote', { name: 'x', scopes: ['a"b'] }, 'scopes.0'],
      ['a scope with a NUL', { name: 'x', scopes: ['a\u0000b'] }, 'scopes.0'],
      ['a 129 character scope', { name: 'x', scopes: ['s'.repeat(129)] }, 'scopes.0'],
      ['201 scopes', { name: 'x', scopes: Array.from({ length: 201 }, (_, i) => `s${i}`) }, 'scopes'],
      ['an unknown field', { name: 'x', evil: true }, 'evil'],
      ['a client_id of its choosing', { name: 'x', client_id: 'chosen' }, 'client_id'],
      ['a secret of its choosing', { name: 'x', client_secret: 'chosen' }, 'client_secret'],
      ['a secret hash of its choosing', { name: 'x', secret_hash: 'chosen' }, 'secret_hash'],
      ['disabled on create', { name: 'x', disabled: false }, 'disabled'],
      ['redirect_uris as a string', { name: 'x', redirect_uris: 'https://app.example.com/cb' }, 'redirect_uris'],
      ['21 redirect URIs', { name: 'x', redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/${i}`) }, 'redirect_uris'],
    ];
    const REDIRECTS = [
      'javascript:alert(1)',
      'JavaScript:alert(document.domain)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'https://app.example.com/cb#fragment',
      'https://app.example.com/cb#',
      'http://app.example.com/cb',
      'http://localhost.evil.example/cb',
      'http://127.0.0.1.evil.example/cb',
      'http://127.0.0.1@evil.example/cb',
      '/relative/cb',
      '//evil.example/cb',
      'app.example.com/cb',
      'https://app.example.com/cb\r\nX: y',
      ' https://app.example.com/cb',
      'https://app.example.com/c b',
      'https://app.example.com/\u0000',
      'https://',
      '',
      `https://app.example.com/${'p'.repeat(2100)}`,
    ];
    for (const uri of REDIRECTS) CLIENT_CASES.push([`the redirect URI ${JSON.stringify(uri.slice(0, 60))}`, { name: 'x', grant_types: ['authorization_code'], redirect_uris: [uri] }, 'redirect_uris.0']);

    it.each(CLIENT_CASES)('refuses a client with %s: 400 invalid_request naming the field, nothing stored', async (_what, body, field) => {
      const { body: err } = await unchanged(async () => expectError(await post('/admin/clients', body), 400, 'invalid_request'));
      expect(err.error_description).toContain(field);
    });

    const RESOURCE_CASES: Array<[string, unknown, string]> = [
      ['an array instead of an object', [{ identifier: 'https://a.example.com', name: 'x' }], 'body'],
      ['identifier missing', { name: 'x' }, 'identifier'],
      // Grantor's own scope names: allowing a client the API's scope would allow it Grantor's permission.
      ['a scope named admin', { identifier: 'https://a.example.com', name: 'x', scopes: [{ name: 'admin' }] }, 'scopes'],
      ['a scope named ssf', { identifier: 'https://a.example.com', name: 'x', scopes: [{ name: 'ssf' }] }, 'scopes'],
      ['a scope named introspect', { identifier: 'https://a.example.com', name: 'x', scopes: [{ name: 'introspect' }] }, 'scopes'],
      ['identifier as a number', { identifier: 5, name: 'x' }, 'identifier'],
      ['a 3000 character identifier', { identifier: `https://a.example.com/${'p'.repeat(3000)}`, name: 'x' }, 'identifier'],
      ['scopes as strings', { identifier: 'https://a.example.com', name: 'x', scopes: ['read'] }, 'scopes.0'],
      ['a scope definition with an unknown field', { identifier: 'https://a.example.com', name: 'x', scopes: [{ name: 'read', evil: 1 }] }, 'scopes.0'],
      ['a scope listed twice', { identifier: 'https://a.example.com', name: 'x', scopes: [{ name: 'read' }, { name: 'read' }] }, 'scopes'],
      ['a 501 character scope description', { identifier: 'https://a.example.com', name: 'x', scopes: [{ name: 'read', description: 'd'.repeat(501) }] }, 'scopes.0.description'],
      ['a negative access_token_ttl', { identifier: 'https://a.example.com', name: 'x', access_token_ttl: -1 }, 'access_token_ttl'],
      ['a huge access_token_ttl', { identifier: 'https://a.example.com', name: 'x', access_token_ttl: 1e12 }, 'access_token_ttl'],
      ['a fractional access_token_ttl', { identifier: 'https://a.example.com', name: 'x', access_token_ttl: 60.5 }, 'access_token_ttl'],
      ['access_token_ttl as a string', { identifier: 'https://a.example.com', name: 'x', access_token_ttl: '600' }, 'access_token_ttl'],
      ['an id of its choosing', { identifier: 'https://a.example.com', name: 'x', id: 'chosen' }, 'id'],
    ];
    for (const identifier of ['not a uri', '/relative', 'api.example.com', 'https://api.example.com#frag', 'https://a.example.com/\u0000', 'https://a.example.com/\r\n', ' https://a.example.com', '', 'https://']) {
      RESOURCE_CASES.push([`the identifier ${JSON.stringify(identifier)}`, { identifier, name: 'x' }, 'identifier']);
    }

    it.each(RESOURCE_CASES)('refuses a resource with %s: 400 invalid_request naming the field, nothing stored', async (_what, body, field) => {
      const { body: err } = await unchanged(async () => expectError(await post('/admin/resources', body), 400, 'invalid_request'));
      expect(err.error_description).toContain(field);
    });

    it('refuses to register the admin API or an existing identifier with 409 conflict', async () => {
      await unchanged(async () => {
        await expectError(await post('/admin/resources', { identifier: `${app.issuer}/admin`, name: 'takeover', scopes: [{ name: 'manage' }] }), 409, 'conflict');
        await expectError(await post('/admin/resources', { identifier: API, name: 'takeover' }), 409, 'conflict');
      });
    });

    it('refuses __proto__ and constructor keys and pollutes nothing', async () => {
      for (const body of [
        '{"name":"x","__proto__":{"polluted":true}}',
        '{"name":"x","constructor":{"prototype":{"polluted":true}}}',
        '{"name":"x","scopes":["read"],"__proto__":{"scopes":["admin"]}}',
        '{"identifier":"https://p.example.com","name":"x","scopes":[{"name":"read","__proto__":{"polluted":true}}]}',
      ]) {
        const p = body.includes('identifier') ? '/admin/resources' : '/admin/clients';
        const { body: err } = await unchanged(async () => expectError(await send('POST', p, body), 400, 'invalid_request'));
        // The JSON reader refuses prototype keys before any schema sees them (400, body malformed).
        expect(err.error_description).toMatch(/__proto__|constructor|malformed request body/);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).scopes).toBeUndefined();
    });

    it('refuses PATCH fields that would change identity or secrets, and leaves the row as it was', async () => {
      const before = await app.deps.db('clients').where({ client_id: creds.client_id }).first();
      for (const [body, field] of [
        [{ client_id: 'chosen' }, 'client_id'],
        [{ secret_hash: 'chosen' }, 'secret_hash'],
        [{ client_secret: 'chosen' }, 'client_secret'],
        [{ type: 'public' }, 'type'],
        [{ created_at: 0 }, 'created_at'],
        [{ scopes: 'admin' }, 'scopes'],
        [{ disabled: 'false' }, 'disabled'],
        [{ name: 'ok', evil: 1 }, 'evil'],
        [[{ name: 'x' }], 'body'],
      ] as const) {
        const res = await send('PATCH', `/admin/clients/${creds.client_id}`, JSON.stringify(body));
        expect((await expectError(res, 400, 'invalid_request')).body.error_description).toContain(field);
      }
      expect(await app.deps.db('clients').where({ client_id: creds.client_id }).first()).toEqual(before);
    });

    it.each(SQL_AND_PATHS.map((id) => [id]))('answers a SQL- or path-looking id %j in the path with 404 and changes nothing', async (id) => {
      const p = encodeURIComponent(id);
      await unchanged(async () => {
        await expectError(await send('GET', `/admin/clients/${p}`, undefined, {}), 404, 'not_found');
        await expectError(await send('PATCH', `/admin/clients/${p}`, JSON.stringify({ name: 'x' })), 404, 'not_found');
        await expectError(await send('DELETE', `/admin/clients/${p}`, undefined, {}), 404, 'not_found');
        await expectError(await send('POST', `/admin/clients/${p}/secret`, undefined, {}), 404, 'not_found');
        await expectError(await send('GET', `/admin/resources/${p}`, undefined, {}), 404, 'not_found');
        await expectError(await send('DELETE', `/admin/resources/${p}`, undefined, {}), 404, 'not_found');
      });
    });

    it.each([
      ['limit=-1', 'limit'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ["cursor=' OR 1=1 --", 'cursor'],
      ['cursor=../../etc/passwd', 'cursor'],
      [`cursor=${'c'.repeat(600)}`, 'cursor'],
      ['cursor=a&cursor=b', 'cursor'],
      ['evil=1', 'evil'],
      ['__proto__[limit]=1', '__proto__'],
    ])('refuses the list query %s with 400 invalid_request naming the field', async (query, field) => {
      for (const p of ['/admin/clients', '/admin/resources']) {
        const res = await send('GET', `${p}?${query}`, undefined, {});
        expect((await expectError(res, 400, 'invalid_request')).body.error_description).toContain(field);
      }
    });

    it('reads a SQL-looking cursor that is valid base64url as a plain key', async () => {
      const cursor = Buffer.from("' OR 1=1 --").toString('base64url');
      const res = await send('GET', `/admin/clients?cursor=${cursor}`, undefined, {});
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(Array.isArray(body.items)).toBe(true);
    });

    it('answers an unknown admin path or method with a JSON 404', async () => {
      await expectError(await send('PUT', '/admin/clients', '{}'), 404, 'not_found');
      await expectError(await send('GET', '/admin/../../etc/passwd', undefined, {}), 404, 'not_found');
      await expectError(await send('GET', '/admin/%2e%2e/%2e%2e/etc/passwd', undefined, {}), 404, 'not_found');
    });
  });

  it('keeps a well-formed X-Request-Id and replaces a hostile one', async () => {
    const kept = await fetch(`${app.url}/healthz`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const hostile = await fetch(`${app.url}/healthz`, { headers: { 'X-Request-Id': '<script>alert(1)</script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const answer = await readAnswer(hostile);
    expect(answer.status).toBe(200);
  });
});

/**
 * The token endpoint has two ways in (src/http/lean-post.ts): plain same-origin form POSTs are
 * answered outside koa, everything else by the koa route. Whichever way a request takes, the
 * answer must be the same: these tests send each request once in one piece (Content-Length: the
 * lean path) and once chunked (Transfer-Encoding: the koa route) and compare the two answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/deps.js';
import { oauthLeanRoutes } from '../../src/oauth/routes.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const FORM = 'application/x-www-form-urlencoded';
/** Headers that differ between any two answers, or between Content-Length and chunked framing. */
const VARYING = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

function stableHeaders(res: RawResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([name]) => !VARYING.has(name)).sort(([a], [b]) => a.localeCompare(b)));
}

/** Sends these exact bytes and returns everything the server answers until it closes. */
function rawExchange(baseUrl: string, bytes: Buffer): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('the token endpoint answers alike through its lean path and through koa', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0' } });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
  });
  afterAll(() => app.close());

  /** The same request in one piece and chunked. */
  async function bothWays(body: string | Buffer, headers: Record<string, string | string[]> = {}, path = '/oauth/token'): Promise<[RawResponse, RawResponse]> {
    const h = { 'Content-Type': FORM, ...headers };
    const lean = await rawRequest(app.url, path, { method: 'POST', headers: h, body });
    const koa = await rawRequest(app.url, path, { method: 'POST', headers: h, body: [body.slice(0, 5), body.slice(5)] });
    return [lean, koa];
  }

  it('issues the same kind of token with the same headers', async () => {
    const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', { Authorization: basic(creds.client_id, creds.client_secret) });
    expect(lean.status).toBe(200);
    expect(koa.status).toBe(200);
    expect(stableHeaders(lean)).toEqual(stableHeaders(koa));
    expect(lean.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' });
    const jwks = createLocalJWKSet({ keys: app.deps.keyRing.publicJwks() });
    const claims = await Promise.all([lean, koa].map(async (r) => (await jwtVerify(r.json().access_token, jwks, { issuer: app.issuer, typ: 'at+jwt' })).payload));
    const { access_token: _l, ...leanRest } = lean.json();
    const { access_token: _k, ...koaRest } = koa.json();
    expect(leanRest).toEqual(koaRest);
    expect(claims[0].grant_id).toBe(claims[1].grant_id);
    expect(Object.keys(claims[0]).sort()).toEqual(Object.keys(claims[1]).sort());
  });

  it.each([
    ['a wrong secret (401 with a Basic challenge)', 'grant_type=client_credentials', { Authorization: 'Basic d3Jvbmc6d3Jvbmc=' }, 401, 'invalid_client'],
    ['no grant_type', 'scope=read', {}, 400, 'invalid_request'],
    ['an unknown grant type', 'grant_type=password&username=a&password=b', {}, 400, 'unsupported_grant_type'],
    ['a repeated parameter', 'grant_type=client_credentials&grant_type=client_credentials', {}, 400, 'invalid_request'],
    ['malformed percent-encoding', 'grant_type=client_credentials&scope=%ZZ', {}, 400, 'invalid_request'],
    ['a bearer token instead of client authentication', 'grant_type=client_credentials', { Authorization: 'Bearer abc' }, 401, 'invalid_client'],
    ['a DPoP header that is no proof (RFC 9449 §4.3)', 'grant_type=client_credentials', { DPoP: 'not.a.proof' }, 400, 'invalid_dpop_proof'],
  ])('refuses %s the same way', async (_what, body, headers, status, error) => {
    const [lean, koa] = await bothWays(body, headers as Record<string, string>);
    expect(lean.status).toBe(status);
    expect(lean.json()).toEqual({ error, error_description: expect.any(String) });
    expect(koa.status).toBe(lean.status);
    expect(koa.json()).toEqual(lean.json());
    expect(stableHeaders(koa)).toEqual(stableHeaders(lean));
  });

  // Regressions (issue #10, item 8): each of these bytes was answered one way by the lean path and
  // another by koa; now each has one answer, given by the same function on both paths.
  describe('one answer for each framing, on both paths', () => {
    const good = () => ({ Authorization: basic(creds.client_id, creds.client_secret) });

    it('refuses a body that starts with a byte order mark (400 invalid_request; koa used to strip it and answer 200)', async () => {
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('grant_type=client_credentials&scope=read')]);
      const [lean, koa] = await bothWays(body, good());
      expect(lean.status).toBe(400);
      expect(lean.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/byte order mark/) });
      expect(koa.status).toBe(400);
      expect(koa.json()).toEqual(lean.json());
      expect(stableHeaders(koa)).toEqual(stableHeaders(lean));
    });

    it('refuses a body that is not UTF-8 (400 invalid_request)', async () => {
      const body = Buffer.concat([Buffer.from('grant_type=client_credentials&scope=read&x='), Buffer.from([0xe9])]);
      const [lean, koa] = await bothWays(body, good());
      expect(lean.status).toBe(400);
      expect(lean.json().error).toBe('invalid_request');
      expect(koa.json()).toEqual(lean.json());
    });

    it.each(['iso-8859-1', '"latin1"', 'utf-16'])('refuses a form labelled charset=%s (400 invalid_request; koa used to read it as UTF-8)', async (charset) => {
      const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', { ...good(), 'Content-Type': `${FORM}; charset=${charset}` });
      expect(lean.status).toBe(400);
      expect(lean.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/UTF-8/) });
      expect(koa.status).toBe(400);
      expect(koa.json()).toEqual(lean.json());
      expect(stableHeaders(koa)).toEqual(stableHeaders(lean));
    });

    it.each([`${FORM}; charset=UTF-8`, `${FORM};charset="utf-8"`, 'Application/X-WWW-Form-URLEncoded'])('accepts %s', async (type) => {
      const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', { ...good(), 'Content-Type': type });
      expect([lean.status, koa.status]).toEqual([200, 200]);
    });

    it('refuses two Authorization headers (RFC 9110 §5.3: 400 invalid_request; the first used to be taken)', async () => {
      const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', { Authorization: [good().Authorization, 'Basic d3Jvbmc6d3Jvbmc='] });
      expect(lean.status).toBe(400);
      expect(lean.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/Authorization/) });
      expect(koa.status).toBe(400);
      expect(koa.json()).toEqual(lean.json());
      expect(stableHeaders(koa)).toEqual(stableHeaders(lean));
    });

    it('refuses two Content-Type headers (400 invalid_request)', async () => {
      const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', { ...good(), 'Content-Type': [FORM, 'application/json'] });
      expect([lean.status, koa.status]).toEqual([400, 400]);
      expect(koa.json()).toEqual(lean.json());
    });

    it.each(['/OAUTH/TOKEN', '/oauth/token/', '/Oauth/Token', '/oauth//token'])('answers %s 404 like any unknown path (routes match exactly)', async (path) => {
      const [lean, koa] = await bothWays('grant_type=client_credentials&scope=read', good(), path);
      expect(lean.status).toBe(404);
      expect(lean.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });
      expect(koa.status).toBe(404);
      expect(koa.json()).toEqual(lean.json());
    });

    it('answers a transfer coding other than chunked with 501 (RFC 9112 §6.1; gzip used to be ignored)', async () => {
      const body = gzipSync('grant_type=client_credentials&scope=read');
      const head = [`POST /oauth/token HTTP/1.1`, `Host: ${new URL(app.url).host}`, `Content-Type: ${FORM}`, `Authorization: ${good().Authorization}`, 'Transfer-Encoding: gzip, chunked', 'Connection: close'];
      const raw = await rawExchange(app.url, Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
      expect(raw).toMatch(/^HTTP\/1\.1 501 /);
      expect(raw).toMatch(/"error":"invalid_request"/);
      expect(raw).not.toMatch(/access_token/);
    });
  });

  it('keeps a well-formed X-Request-Id and replaces a hostile one, both ways', async () => {
    for (const res of await bothWays('grant_type=client_credentials', { 'X-Request-Id': 'trace-42' })) expect(res.headers['x-request-id']).toBe('trace-42');
    for (const res of await bothWays('grant_type=client_credentials', { 'X-Request-Id': '<script>' })) expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts lean answers in the same request metrics as koa answers', async () => {
    await bothWays('grant_type=nope');
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/grantor_http_request_duration_seconds_count\{method="POST",route="\/oauth\/token",status="400"\} \d+/);
    expect(text).toMatch(/grantor_oauth_errors_total\{error="unsupported_grant_type"\} [2-9]/);
  });
});

describe('introspection answers alike through its lean path and through koa (issue #14 item 4)', () => {
  let app: TestApp;
  let rs: { client_id: string; client_secret: string };
  let token: string;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0' } });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    const creds = await app.client({ scopes: ['read'] });
    rs = await app.client({ name: 'a resource server', scopes: ['introspect'] });
    token = (await (await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret] })).json()).access_token;
  });
  afterAll(() => app.close());

  async function bothWays(body: string, headers: Record<string, string> = {}): Promise<[RawResponse, RawResponse]> {
    const h = { 'Content-Type': FORM, ...headers };
    const lean = await rawRequest(app.url, '/oauth/introspect', { method: 'POST', headers: h, body });
    const koa = await rawRequest(app.url, '/oauth/introspect', { method: 'POST', headers: h, body: [body.slice(0, 5), body.slice(5)] });
    return [lean, koa];
  }

  it.each([
    ['an active token', () => `token=${token}`, () => basic(rs.client_id, rs.client_secret), 200],
    ['an unknown token', () => 'token=nonsense', () => basic(rs.client_id, rs.client_secret), 200],
    ['a tampered token', () => `token=${token.slice(0, -4)}AAAA`, () => basic(rs.client_id, rs.client_secret), 200],
    ['no token', () => 'token_type_hint=access_token', () => basic(rs.client_id, rs.client_secret), 400],
    ['a wrong secret', () => `token=${token}`, () => basic(rs.client_id, 'wrong'), 401],
    ['no client authentication (RFC 7662 §2.1)', () => `token=${token}`, () => '', 401],
  ])('answers %s the same way', async (_what, body, authorization, status) => {
    const auth = authorization();
    const [lean, koa] = await bothWays(body(), auth ? { Authorization: auth } : {});
    expect(lean.status).toBe(status);
    expect(koa.status).toBe(status);
    expect(koa.json()).toEqual(lean.json());
    expect(stableHeaders(koa)).toEqual(stableHeaders(lean));
    expect(lean.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache', vary: 'Origin' });
  });

  it('counts lean introspections in the same request metrics as koa ones', async () => {
    await bothWays('token=x', { Authorization: basic(rs.client_id, 'wrong') });
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/grantor_http_request_duration_seconds_count\{method="POST",route="\/oauth\/introspect",status="401"\} [2-9]/);
  });
});

/**
 * Issue #14 item 5: the edge work every request gets — request id, security and no-store headers,
 * the access log line, the refusal's log line, the request metrics, the per-address rate limit —
 * is the same on both paths, because both are built from one description (src/http/form-route.ts).
 * Each request goes once each way; what each produced is compared piece by piece.
 */
describe('the edge work is the same on both paths: logs, metrics, rate-limited answers (issue #14 item 5)', () => {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  const LIMIT = 6;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: String(LIMIT) }, logger: createLogger('debug', stream) });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read', 'introspect'] });
  });
  afterAll(() => app.close());

  /** Log lines of one request, without what differs between any two (ids, times, process). */
  const logged = (): Array<Record<string, unknown>> => lines.splice(0).map(({ time: _t, pid: _p, hostname: _h, requestId, ms: _m, ...rest }) => ({ ...rest, requestId: typeof requestId }));
  async function metric(path: string, status: number): Promise<number> {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const m = new RegExp(`grantor_http_request_duration_seconds_count\\{method="POST",route="${path.replace(/\//g, '\\/')}",status="${status}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  }
  /** One request through the lean path, then through koa; each with its answer, log lines and metric increment. */
  async function eachWay(path: string, body: string, status: number) {
    const headers = { 'Content-Type': FORM, Authorization: basic(creds.client_id, creds.client_secret) };
    const out = [];
    for (const framed of [body, [body.slice(0, 5), body.slice(5)]]) {
      const before = await metric(path, status);
      lines.length = 0;
      const res = await rawRequest(app.url, path, { method: 'POST', headers, body: framed });
      const log = logged().filter((l) => l.path === path);
      out.push({ res, log, counted: (await metric(path, status)) - before });
    }
    return out;
  }

  it('logs, counts and limits a request the same way on both paths, and both paths share one limit', async () => {
    const cases: Array<[string, string]> = [
      ['/oauth/token', 'grant_type=client_credentials&scope=read'],
      ['/oauth/introspect', 'token=not-a-token'],
      ['/oauth/token', 'grant_type=nonsense'],
    ];
    for (const [path, body] of cases) {
      const [lean, koa] = await eachWay(path, body, path === '/oauth/token' && body.includes('nonsense') ? 400 : 200);
      expect(koa.res.status).toBe(lean.res.status);
      expect(stableHeaders(koa.res)).toEqual(stableHeaders(lean.res));
      expect(lean.log.length).toBeGreaterThan(0);
      expect(koa.log).toEqual(lean.log);
      expect([lean.counted, koa.counted]).toEqual([1, 1]);
    }
    // 6 requests so far from this address: the limit (RATE_LIMIT_ADDRESS) is spent on both paths alike.
    for (const [path, body] of cases.slice(0, 2)) {
      const [lean, koa] = await eachWay(path, body, 429);
      expect([lean.res.status, koa.res.status]).toEqual([429, 429]);
      expect(lean.res.json()).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
      expect(koa.res.json()).toEqual(lean.res.json());
      expect(lean.res.headers['retry-after']).toMatch(/^\d+$/);
      const { 'retry-after': _l, ...leanHeaders } = stableHeaders(lean.res);
      const { 'retry-after': _k, ...koaHeaders } = stableHeaders(koa.res);
      expect(koaHeaders).toEqual(leanHeaders);
      expect(koa.log).toEqual(lean.log);
      expect(lean.log).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'request', status: 429 }), expect.objectContaining({ msg: 'request refused', error: 'rate_limited' })]));
      expect([lean.counted, koa.counted]).toEqual([1, 1]);
    }
  });
});

describe('what the lean path takes and what it leaves to koa', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  /** Whether the lean route takes a request with these headers (the answer itself is not awaited). */
  function takes(init: { method?: string; url?: string; headers: Record<string, string>; raw?: string[] }): boolean {
    const [route] = oauthLeanRoutes(app.deps);
    const rawHeaders = [...Object.entries(init.headers).flat(), ...(init.raw ?? [])];
    const req = { method: init.method ?? 'POST', url: init.url ?? '/oauth/token', headers: init.headers, rawHeaders, on() {}, once() {}, socket: {} } as unknown as IncomingMessage;
    const res = { writeHead() {}, end() {} } as unknown as ServerResponse;
    return route(req, res);
  }
  const form = { 'content-type': FORM, 'content-length': '20' };

  it('takes a same-origin form POST of stated length to exactly /oauth/token', () => {
    expect(takes({ headers: form })).toBe(true);
    expect(takes({ headers: { ...form, 'content-type': `${FORM}; charset=UTF-8` } })).toBe(true);
  });

  it.each([
    ['another method', { method: 'GET', headers: form }],
    ['another path', { url: '/oauth/revoke', headers: form }],
    ['a query string', { url: '/oauth/token?x=1', headers: form }],
    ['a cross-origin request (CORS is koa\'s)', { headers: { ...form, origin: 'https://app.example.com' } }],
    ['a compressed body', { headers: { ...form, 'content-encoding': 'gzip' } }],
    ['a chunked body', { headers: { 'content-type': FORM, 'transfer-encoding': 'chunked' } }],
    ['a body over the limit (koa answers 413)', { headers: { ...form, 'content-length': '100000000' } }],
    ['another content type', { headers: { ...form, 'content-type': 'application/json' } }],
    ['another charset (koa refuses it)', { headers: { ...form, 'content-type': `${FORM}; charset=iso-8859-1` } }],
    ['two Authorization headers (koa refuses them)', { headers: { ...form, authorization: 'Basic a' }, raw: ['Authorization', 'Basic a', 'Authorization', 'Basic b'] }],
    ['another case of the path', { url: '/OAUTH/TOKEN', headers: form }],
    ['a trailing slash', { url: '/oauth/token/', headers: form }],
  ])('leaves %s to koa', (_what, init) => {
    expect(takes(init as { headers: Record<string, string>; raw?: string[] })).toBe(false);
  });
});

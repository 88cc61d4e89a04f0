/**
 * Issue #14 item 4: the JWKS, the metadata and the status list are served from prepared bytes
 * (src/http/prepared-document.ts), by a route described once (src/http/prepared-route.ts) and built
 * both ways: a lean route ahead of koa takes plain GETs and HEADs, koa takes everything else.
 * Whichever way a request takes, the answer, the access log line and the request metrics must be
 * the same: each request is sent once plain (the lean path) and once with an empty chunked body
 * (which the lean path leaves to koa), and everything is compared.
 */
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import Koa from 'koa';
import { createLogger } from '../../src/deps.js';
import { simpleGzipChoice } from '../../src/http/prepared-document.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Headers that differ between any two answers, or between the two framings of the request. */
const VARYING = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
const stableHeaders = (res: RawResponse) => Object.fromEntries(Object.entries(res.headers).filter(([name]) => !VARYING.has(name)).sort(([a], [b]) => a.localeCompare(b)));

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

const JWKS = '/.well-known/jwks.json';
const METADATA = '/.well-known/oauth-authorization-server';
const STATUS_LIST = '/statuslists/1';

describe('prepared documents answer alike through the lean path and through koa', () => {
  let app: TestApp;
  const log = capture();
  beforeAll(async () => {
    app = await startTestApp({ logger: createLogger('info', log.stream) });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  const requestLines = () => log.lines.filter((l) => l.msg === 'request').map(({ method, path, status }) => ({ method, path, status }));
  async function metricCount(method: string, route: string, status: number): Promise<number> {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const m = new RegExp(`grantor_http_request_duration_seconds_count\\{method="${method}",route="${route.replace(/[/.]/g, '\\$&')}",status="${status}"\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** The same request plain (lean) and with an empty chunked body (koa); with each one's log lines and metric counts. */
  async function bothWays(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const answers: RawResponse[] = [];
    const lines: unknown[] = [];
    for (const framing of [{}, { 'Transfer-Encoding': 'chunked' }] as Array<Record<string, string>>) {
      log.lines.length = 0;
      answers.push(await rawRequest(app.url, path, { method, headers: { ...headers, ...framing }, body: [] }));
      lines.push(requestLines());
    }
    return { lean: answers[0], koa: answers[1], lines };
  }

  it.each([
    ['the JWKS', JWKS, {}],
    ['the metadata', METADATA, {}],
    ['the status list', STATUS_LIST, {}],
    ['the status list, gzip', STATUS_LIST, { 'Accept-Encoding': 'gzip, deflate, br' }],
    ['the status list, gzip by *', STATUS_LIST, { 'Accept-Encoding': '*' }],
    ['the status list, not gzip', STATUS_LIST, { 'Accept-Encoding': 'deflate, br' }],
  ])('serves %s with the same status, headers, bytes and log line', async (_what, path, headers) => {
    for (const method of ['GET', 'HEAD']) {
      const { lean, koa, lines } = await bothWays(path, headers as Record<string, string>, method);
      expect(lean.status).toBe(200);
      expect(koa.status).toBe(200);
      expect(stableHeaders(lean)).toEqual(stableHeaders(koa));
      expect(lean.text).toBe(koa.text);
      expect(lean.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines[0]).toEqual([{ method, path, status: 200 }]);
      expect(lines[1]).toEqual(lines[0]);
    }
  });

  it.each([JWKS, METADATA, STATUS_LIST])('answers a conditional GET of %s 304 the same way (RFC 9110 §13.1.2, weak comparison)', async (path) => {
    const etag = (await rawRequest(app.url, path)).headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const { lean, koa, lines } = await bothWays(path, { 'If-None-Match': ifNoneMatch });
      expect([lean.status, koa.status]).toEqual([304, 304]);
      expect(lean.text).toBe('');
      expect(stableHeaders(lean)).toEqual(stableHeaders(koa));
      expect(lean.headers['content-type']).toBeUndefined();
      expect(lines[0]).toEqual([{ method: 'GET', path, status: 304 }]);
      expect(lines[1]).toEqual(lines[0]);
    }
    const { lean, koa } = await bothWays(path, { 'If-None-Match': '"stale"' });
    expect([lean.status, koa.status]).toEqual([200, 200]);
  });

  it('gives each encoding of the status list its own ETag (RFC 9110 §8.8.3), on both paths', async () => {
    const plain = await bothWays(STATUS_LIST);
    const zipped = await bothWays(STATUS_LIST, { 'Accept-Encoding': 'gzip' });
    expect(zipped.lean.headers.etag).toBe(plain.lean.headers.etag!.replace(/"$/, '-gzip"'));
    expect(zipped.lean.headers['content-encoding']).toBe('gzip');
    const notModified = await bothWays(STATUS_LIST, { 'Accept-Encoding': 'gzip', 'If-None-Match': plain.lean.headers.etag as string });
    expect([notModified.lean.status, notModified.koa.status]).toEqual([200, 200]);
  });

  it('serves the gzip bytes of the very token it serves plain', async () => {
    const zipped = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ default: http }) => http.get(`${app.url}${STATUS_LIST}`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject));
    });
    expect(gunzipSync(zipped).toString()).toBe((await rawRequest(app.url, STATUS_LIST)).text);
  });

  it('keeps the headers each document had when koa serialised it per request', async () => {
    const jwks = await rawRequest(app.url, JWKS);
    expect(jwks.headers).toMatchObject({ 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' });
    expect(jwks.headers['content-length']).toBe(String(Buffer.byteLength(jwks.text)));
    const metadata = await rawRequest(app.url, METADATA);
    expect(metadata.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
    expect(metadata.json().issuer).toBe(app.issuer);
    const list = await rawRequest(app.url, STATUS_LIST);
    expect(list.headers).toMatchObject({ 'content-type': 'application/statuslist+jwt', vary: 'Accept-Encoding', 'access-control-allow-origin': '*' });
    expect(list.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
  });

  it('counts lean answers in the same request metrics as koa answers', async () => {
    for (const path of [JWKS, METADATA, STATUS_LIST]) {
      const before = await metricCount('GET', path, 200);
      await bothWays(path);
      expect(await metricCount('GET', path, 200)).toBe(before + 2);
    }
  });

  it('prepares a new metadata document when a resource brings a new scope', async () => {
    const before = await rawRequest(app.url, METADATA);
    await app.resource({ identifier: 'https://reports.example.com', scopes: [{ name: 'report' }] });
    const { lean, koa } = await bothWays(METADATA);
    expect(lean.json().scopes_supported).toContain('report');
    expect(koa.text).toBe(lean.text);
    expect(lean.headers.etag).not.toBe(before.headers.etag);
  });

  it('leaves the status list\'s ?time= to koa, which refuses it (501, draft §8.4)', async () => {
    const res = await rawRequest(app.url, `${STATUS_LIST}?time=1`);
    expect(res.status).toBe(501);
  });
});

describe('simpleGzipChoice() decides exactly as koa\'s acceptsEncodings() where it decides at all', () => {
  const koa = new Koa();
  const koaChoice = (header: string | undefined) => {
    const ctx = koa.createContext({ headers: header === undefined ? {} : { 'accept-encoding': header }, socket: {} } as never, {} as never);
    return ctx.acceptsEncodings('gzip', 'identity');
  };
  it.each([undefined, '', 'gzip', 'GZIP', 'gzip, deflate, br', 'br, gzip', 'deflate, br', '*', 'x-gzip', 'br,zstd', ' gzip ', 'deflate, *', '*, gzip'])('%p', (header) => {
    expect(simpleGzipChoice(header)).toBe(koaChoice(header));
  });
  it.each(['identity', 'gzip;q=0', 'gzip;q=0.5, identity', 'identity;q=0, *', 'identity, gzip', 'gzip, identity', '*, identity'])('leaves %p to koa', (header) => {
    expect(simpleGzipChoice(header)).toBeUndefined();
  });
});

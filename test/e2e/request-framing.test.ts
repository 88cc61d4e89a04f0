/**
 * Framing every route shares (src/http/request-framing.ts) and exact route matching on every
 * router (regression, issue #10 item 8: `/OAUTH/TOKEN` and `/oauth/token/` were served).
 */
import { routers } from '../../src/app.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('every route matches its path exactly: another case or a trailing slash is 404', () => {
  let app: TestApp;
  let admin: string;
  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.adminToken();
  });
  afterAll(() => app.close());

  const variants = (path: string) => [path.toUpperCase(), `${path}/`].filter((v) => v !== path && v !== '//');

  it('holds for every literal path of every router', async () => {
    const paths = routers(app.deps).flatMap((router) =>
      router.stack.flatMap((layer) => (typeof layer.path === 'string' && layer.methods.length > 0 && !layer.path.includes(':') ? [{ path: layer.path, method: layer.methods.includes('GET') ? 'GET' : layer.methods[0] }] : [])),
    );
    expect(paths.length).toBeGreaterThan(15);
    const served: string[] = [];
    for (const { path, method } of paths) {
      for (const variant of variants(path)) {
        const res = await rawRequest(app.url, variant, { method, headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' }, body: ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined });
        if (res.status !== 404) served.push(`${method} ${variant} → ${res.status}`);
      }
    }
    expect(served).toEqual([]);
  });
});

describe('framing refused on every route, before any route runs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('refuses two Authorization headers on the admin API (RFC 9110 §5.3) with 400 invalid_request', async () => {
    const token = await app.adminToken();
    const res = await rawRequest(app.url, '/admin/clients', { headers: { Authorization: [`Bearer ${token}`, 'Bearer other'] } });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect((await rawRequest(app.url, '/admin/clients', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('answers a JSON body sent with Transfer-Encoding: gzip, chunked with 501 (RFC 9112 §6.1) and creates nothing', async () => {
    const token = await app.adminToken();
    const before = (await rawRequest(app.url, '/admin/resources', { headers: { Authorization: `Bearer ${token}` } })).json();
    const res = await rawRequest(app.url, '/admin/resources', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'gzip, chunked' },
      body: [JSON.stringify({ identifier: 'https://x.example.com', name: 'x' })],
    });
    expect(res.status).toBe(501);
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/transfer coding/) });
    expect((await rawRequest(app.url, '/admin/resources', { headers: { Authorization: `Bearer ${token}` } })).json()).toEqual(before);
  });
});

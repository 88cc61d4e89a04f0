/**
 * CORS for browser apps: the token, revocation and introspection endpoints admit the origins of
 * registered redirect URIs (echoed, never with credentials); the public documents answer `*`; the
 * admin API and the person-facing pages send no CORS headers at all.
 */
import { deleteClient } from '../../src/registry/clients.js';
import { APP_ORIGIN, delegatedFixture, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('CORS', () => {
  let app: TestApp;
  let fx: Delegated;
  let admin: string;
  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.adminToken();
    fx = await delegatedFixture(app);
    await app.client({ name: 'Loopback app', type: 'public', redirect_uris: ['http://127.0.0.1:8080/cb'], scopes: ['photos:read'] });
  });
  afterAll(() => app.close());

  const preflight = (path: string, origin: string, requestHeaders = 'content-type') =>
    fetch(`${app.url}${path}`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': requestHeaders } });

  const noCors = (res: Response) => {
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  };

  it.each(['/oauth/token', '/oauth/revoke', '/oauth/introspect'])('answers a preflight to %s from a registered redirect URI\'s origin with 204, the origin echoed, POST and Content-Type allowed', async (path) => {
    const res = await preflight(path, APP_ORIGIN, 'content-type, authorization');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-methods')!.split(/,\s*/)).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'authorization']));
    expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(res.headers.get('vary')).toMatch(/origin/i);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await res.text()).toBe('');
  });

  it('admits a loopback redirect URI\'s origin with its port', async () => {
    const res = await preflight('/oauth/token', 'http://127.0.0.1:8080');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8080');
  });

  it.each([
    'https://evil.example',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://app.example.com.evil.example',
    'https://sub.app.example.com',
    'https://APP.example.com',
    `${APP_ORIGIN}/`,
    `${APP_ORIGIN}/callback`,
    'null',
    '*',
    'http://127.0.0.1:8081',
  ])('answers a preflight from %s without any Access-Control-Allow-* header', async (origin) => {
    const res = await preflight('/oauth/token', origin);
    expect(res.status).toBe(204);
    noCors(res);
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('echoes an allowed origin on an error answer too (invalid_grant), and exposes WWW-Authenticate', async () => {
    const res = await fetch(`${app.url}/oauth/token`, {
      method: 'POST',
      headers: { Origin: APP_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: 'https://app.example.com/callback', code_verifier: 'a'.repeat(43), client_id: fx.spa.client_id }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/i);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();

    const unauthenticated = await fetch(`${app.url}/oauth/introspect`, { method: 'POST', headers: { Origin: APP_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Basic bm9wZTpub3Bl' }, body: 'token=x' });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(unauthenticated.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  it('sends no Access-Control-Allow-Origin on a POST from another origin', async () => {
    const res = await fetch(`${app.url}/oauth/token`, { method: 'POST', headers: { Origin: 'https://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x&client_id=y' });
    expect(res.status).toBe(401);
    noCors(res);
  });

  it('follows registrations: a new redirect URI\'s origin is admitted at once, a deleted client\'s no longer', async () => {
    const origin = 'https://new-app.example.com';
    noCors(await preflight('/oauth/token', origin));
    const c = await app.client({ name: 'New app', type: 'public', redirect_uris: [`${origin}/cb`], scopes: ['photos:read'] });
    expect((await preflight('/oauth/token', origin)).headers.get('access-control-allow-origin')).toBe(origin);
    await deleteClient(app.deps, c.client_id);
    noCors(await preflight('/oauth/token', origin));
  });

  it('answers the metadata, the JWKS and the status list with Access-Control-Allow-Origin: * and no credentials', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/jwks.json', '/statuslists/1']) {
      const res = await fetch(`${app.url}${path}`, { headers: { Origin: 'https://anyone.example' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('sends no CORS headers from the admin API, even to an allowed origin', async () => {
    const get = await app.request('/admin/clients', { token: admin, headers: { Origin: APP_ORIGIN } });
    expect(get.status).toBe(200);
    noCors(get);
    const unauth = await app.request('/admin/clients', { headers: { Origin: APP_ORIGIN } });
    expect(unauth.status).toBe(401);
    noCors(unauth);
    const pre = await fetch(`${app.url}/admin/clients`, { method: 'OPTIONS', headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBeLessThan(500);
    noCors(pre);
  });

  it('sends no CORS headers from the pages, even to an allowed origin', async () => {
    for (const path of ['/login', '/account', `/oauth/authorize?client_id=${fx.spa.client_id}`]) {
      const res = await fetch(`${app.url}${path}`, { headers: { Origin: APP_ORIGIN }, redirect: 'manual' });
      expect(res.status).toBeLessThan(500);
      noCors(res);
      const pre = await fetch(`${app.url}${path}`, { method: 'OPTIONS', headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST' } });
      expect(pre.status).toBeLessThan(500);
      noCors(pre);
    }
  });
});

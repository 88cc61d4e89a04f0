/**
 * The client address behind reverse proxies (TRUST_PROXY): the right-most X-Forwarded-For address
 * that is not one of our proxies, on the lean token path and on every koa route alike, so no
 * per-address limit can be evaded by writing addresses into X-Forwarded-For.
 */
import { randomBytes } from 'node:crypto';
import { formFields, Person } from '../helpers/browserless.js';
import { delegatedFixture } from '../helpers/delegated.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const FORM = 'application/x-www-form-urlencoded';
const randomIp = () => [...randomBytes(4)].join('.');

/** A token request with a wrong secret (401) carrying this X-Forwarded-For, in one piece (lean path) or chunked (koa). */
async function tokenStatus(app: TestApp, forwardedFor: string, way: 'lean' | 'koa' = 'lean'): Promise<number> {
  const body = 'grant_type=client_credentials&client_id=nobody&client_secret=wrong';
  const res = await rawRequest(app.url, '/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': FORM, 'X-Forwarded-For': forwardedFor },
    body: way === 'lean' ? body : [body.slice(0, 5), body.slice(5)],
  });
  return res.status;
}

describe('TRUST_PROXY=true: a spoofed X-Forwarded-For does not evade the per-address limits', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ env: { TRUST_PROXY: 'true', RATE_LIMIT_ADDRESS: '4' } });
  });
  afterEach(() => app.close());

  it.each(['lean', 'koa'] as const)('counts `<random>, 10.0.0.9` as 10.0.0.9 on the token endpoint (%s path) — regression: the left-most entry was the address', async (way) => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await tokenStatus(app, `${randomIp()}, 10.0.0.9`, way));
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    // Another client behind the same proxy is not affected.
    expect(await tokenStatus(app, `${randomIp()}, 10.0.0.10`, way)).toBe(401);
  });

  it('counts the lean path and the koa route against one address', async () => {
    const statuses = [await tokenStatus(app, '10.0.0.9', 'lean'), await tokenStatus(app, 'a, 10.0.0.9', 'koa'), await tokenStatus(app, 'b, 10.0.0.9', 'lean'), await tokenStatus(app, 'c, 10.0.0.9', 'koa')];
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(await tokenStatus(app, `${randomIp()}, 10.0.0.9`, 'koa')).toBe(429);
  });

  it('counts failed logins from `<random>, 10.0.0.9` against 10.0.0.9 (20 per address) — regression: the left-most entry was the address', async () => {
    await delegatedFixture(app);
    const login = async (username: string, password: string) => {
      const person = new Person(app.url);
      const page = await (await person.get('/login')).text();
      return fetch(`${app.url}/login`, {
        method: 'POST',
        headers: { Cookie: person.jar.header(), 'Content-Type': FORM, 'X-Forwarded-For': `${randomIp()}, 10.0.0.9` },
        body: new URLSearchParams({ ...formFields(page), username, password }),
        redirect: 'manual',
      });
    };
    for (let i = 0; i < 20; i++) expect((await login(`guess-${i}`, 'nope nope')).status).toBe(401);
    expect((await login('alice', 'correct horse battery')).status).toBe(429);
  });
});

describe('TRUST_PROXY with named proxies and hop counts', () => {
  let app: TestApp | undefined;
  afterEach(() => app?.close());

  it('skips named proxies and CIDRs: the client is the first address left of them', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: '127.0.0.1, 10.0.0.0/8', RATE_LIMIT_ADDRESS: '3' } });
    // One client (198.51.100.7) through different proxies of ours, with whatever it wrote on the left.
    expect(await tokenStatus(app, 'spoof-1, 198.51.100.7, 10.1.2.3')).toBe(401);
    expect(await tokenStatus(app, `${randomIp()}, 198.51.100.7, 10.9.9.9`)).toBe(401);
    expect(await tokenStatus(app, '198.51.100.7', 'koa')).toBe(401);
    expect(await tokenStatus(app, `${randomIp()}, 198.51.100.7, 10.1.2.3`)).toBe(429);
    expect(await tokenStatus(app, '198.51.100.8, 10.1.2.3')).toBe(401);
  });

  it('ignores X-Forwarded-For from a peer that is not a named proxy', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: '10.0.0.0/8', RATE_LIMIT_ADDRESS: '2' } });
    expect(await tokenStatus(app, randomIp())).toBe(401);
    expect(await tokenStatus(app, randomIp(), 'koa')).toBe(401);
    expect(await tokenStatus(app, randomIp())).toBe(429);
  });

  it('trusts exactly the given number of hops (TRUST_PROXY=2: a CDN in front of a load balancer)', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: '2', RATE_LIMIT_ADDRESS: '2' } });
    expect(await tokenStatus(app, `${randomIp()}, 198.51.100.7, 203.0.113.1`)).toBe(401);
    expect(await tokenStatus(app, `${randomIp()}, 198.51.100.7, 203.0.113.2`, 'koa')).toBe(401);
    expect(await tokenStatus(app, `198.51.100.7, 203.0.113.3`)).toBe(429);
    expect(await tokenStatus(app, `198.51.100.7, 198.51.100.8, 203.0.113.4`)).toBe(401);
  });
});

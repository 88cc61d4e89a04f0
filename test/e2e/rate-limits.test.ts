import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { onPostgres } from '../helpers/test-database.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

const API = 'https://api.example.com';

describe('rate limits on the token endpoint', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_CLIENT: '5', RATE_LIMIT_ADDRESS: '12' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  it('answers 429 with Retry-After once a client used its share, without affecting another client', async () => {
    const busy = await app.client({ scopes: ['read'] });
    const calm = await app.client({ scopes: ['read'] });
    const ask = (c: { client_id: string; client_secret: string }) => app.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] });
    for (let i = 0; i < 5; i++) expect((await ask(busy)).status).toBe(200);
    const limited = await ask(busy);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: 'rate_limited', error_description: expect.stringMatching(/client/) });
    expect((await ask(calm)).status).toBe(200);
  });

  it('answers 429 per address before any work is done', async () => {
    // 12 per address in all: 7 were used above.
    const c = await app.client({ scopes: ['read'] });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await app.token({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: 'wrong' })).status);
    expect(statuses.slice(0, 5)).toEqual(Array(5).fill(401));
    expect(statuses[5]).toBe(429);
  });
});

describe(`rate limits hold across two instances on one ${onPostgres ? 'PostgreSQL' : 'SQLite'} database`, () => {
  let two: TwoInstances;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    two = await startTwoInstances({ RATE_LIMIT_CLIENT: '10' });
    ({ a, b } = two);
    await a.resource({ identifier: API, scopes: [{ name: 'read' }] });
    // Let both hear each other's heartbeat (every 5 s) and share the limit out.
    await new Promise((r) => setTimeout(r, 5500));
  });
  afterAll(() => two.close());

  it('lets one client have its limit in all, not once per instance', async () => {
    const c = await a.client({ scopes: ['read'] });
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await (i % 2 ? a : b).token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
  });
});

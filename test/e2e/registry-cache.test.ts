import { hashSecret } from '../../src/lib/secret.js';
import { insertClient } from '../../src/store/clients.js';
import { recordChange } from '../../src/store/read-cache.js';
import type { ClientRow } from '../../src/store/tables.js';
import { until } from '../helpers/eventually.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { onPostgres } from '../helpers/test-database.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';

const API = 'https://api.example.com';

/** Counts the SQL statements an instance sends that touch `table`, while `work` runs. */
async function queriesOn(app: TestApp, table: string, work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const seen = (q: { sql?: string }) => {
    if (q.sql?.includes(`"${table}"`) || q.sql?.includes(`\`${table}\``)) count++;
  };
  app.deps.db.on('query', seen);
  try {
    await work();
  } finally {
    app.deps.db.off('query', seen);
  }
  return count;
}

/** Retries `attempt` until it answers `status` (the other instance polls the change epoch every 250 ms); the last answer. */
async function eventually(attempt: () => Promise<Response>, status: number, withinMs = 2000): Promise<Response> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await attempt();
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Lets `app` see every change made so far: past one epoch poll interval (250 ms), its next request
 * polls, and drops its copies if the epoch moved. Then nothing clears them while a count runs.
 */
async function settle(app: TestApp): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  await app.request('/.well-known/oauth-authorization-server');
  await app.deps.readCache.resources();
}

/**
 * Issue #10 items 6 and 7: the read cache re-reads the database before refusing what it does not
 * hold (a client or resource just registered on another instance is found at once), and remembers
 * the absence briefly, so a flood of probes for one unknown name costs no query after the first;
 * the change epoch clears those remembered absences.
 */
describe(`registry read cache across two instances on ${onPostgres ? 'PostgreSQL' : 'SQLite'}`, () => {
  let two: TwoInstances;
  let a: TestApp;
  let b: TestApp;
  let creds: { client_id: string; client_secret: string };
  beforeAll(async () => {
    two = await startTwoInstances();
    ({ a, b } = two);
    await a.resource({ identifier: API, scopes: [{ name: 'read' }] });
    creds = await a.client({ scopes: ['read'] });
    // B has read the registry once: it holds a copy of the resource list.
    expect((await b.token({ grant_type: 'client_credentials', resource: API }, { basic: [creds.client_id, creds.client_secret] })).status).toBe(200);
  });
  afterAll(() => two.close());

  it('issue #10 item 7: a resource created on A is known on B at once (no invalid_target for up to 250 ms)', async () => {
    const created = 'https://new-at-once.example.com';
    await a.resource({ identifier: created, scopes: [{ name: 'read' }] });
    const res = await b.token({ grant_type: 'client_credentials', resource: created }, { basic: [creds.client_id, creds.client_secret] });
    expect(res.status).toBe(200);
    expect(JSON.parse(Buffer.from((await res.json()).access_token.split('.')[1], 'base64url').toString()).aud).toBe(created);
  });

  it('issue #10 item 7: a client created on A, with scopes of a resource created on A, gets a token from B at once', async () => {
    await a.resource({ identifier: 'https://reports.example.com', scopes: [{ name: 'reports' }] });
    const fresh = await a.client({ scopes: ['reports'] });
    // No resource parameter: B must find the one resource offering `reports`.
    const res = await b.token({ grant_type: 'client_credentials', scope: 'reports' }, { basic: [fresh.client_id, fresh.client_secret] });
    expect(res.status).toBe(200);
    expect((await res.json()).scope).toBe('reports');
  });

  it('issue #10 item 6: repeated probes of one unknown client_id cost no database query after the first', async () => {
    const probe = () => b.token({ grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: 'guess' });
    await settle(b);
    expect((await probe()).status).toBe(401);
    const queries = await queriesOn(b, 'clients', async () => {
      for (let i = 0; i < 5; i++) expect((await probe()).status).toBe(401);
    });
    expect(queries).toBe(0);
  });

  it('issue #10 item 7: repeated requests for one unknown resource re-read the resource list only once', async () => {
    const probe = () => b.token({ grant_type: 'client_credentials', resource: 'https://never.example.com' }, { basic: [creds.client_id, creds.client_secret] });
    await settle(b);
    expect((await probe()).status).toBe(400);
    const queries = await queriesOn(b, 'resources', async () => {
      for (let i = 0; i < 5; i++) expect((await probe()).status).toBe(400);
    });
    expect(queries).toBe(0);
  });

  it('a flood of concurrent requests for different unknown resources re-reads the list at most once per 50 ms, not once each', async () => {
    const probes = Array.from({ length: 20 }, (_, i) => `https://flood-${i}.example.com`);
    let answers: Response[] = [];
    const started = Date.now();
    const queries = await queriesOn(b, 'resources', async () => {
      answers = await Promise.all(probes.map((resource) => b.token({ grant_type: 'client_credentials', resource }, { basic: [creds.client_id, creds.client_secret] })));
    });
    // Not a speed assertion: the bound on reads grows with however long the flood took.
    const bound = 2 + Math.floor((Date.now() - started) / 50);
    expect(answers.map((r) => r.status)).toEqual(probes.map(() => 400));
    expect(queries).toBeGreaterThanOrEqual(1);
    expect(queries).toBeLessThanOrEqual(Math.min(bound, probes.length - 1));
  });

  it("issue #14 item 4: B's metadata, answered from prepared bytes while B holds the resource list, lists a scope added on A after B's next poll", async () => {
    const scopes = async () => (await (await fetch(`${b.url}/.well-known/oauth-authorization-server`)).json()).scopes_supported as string[];
    expect(await scopes()).not.toContain('metadata-scope');
    // Only metadata GETs reach B from here on: nothing else would make it look at the change epoch.
    await a.resource({ identifier: 'https://metadata-scope.example.com', scopes: [{ name: 'metadata-scope' }] });
    await until(async () => (await scopes()).includes('metadata-scope'), "B's metadata listing a scope added on A", 5_000);
  });

  it('the change epoch clears a remembered absence: a resource created on A after B refused it is found on B after its next poll', async () => {
    const later = 'https://later.example.com';
    const ask = () => b.token({ grant_type: 'client_credentials', resource: later }, { basic: [creds.client_id, creds.client_secret] });
    const refused = await ask();
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toBe('invalid_target');
    await a.resource({ identifier: later, scopes: [{ name: 'read' }] });
    expect((await eventually(ask, 200)).status).toBe(200);
  });

  it('the change epoch clears a remembered absence: a client inserted on A after B refused its id authenticates on B after its next poll', async () => {
    const clientId = 'registered-later';
    const ask = () => b.token({ grant_type: 'client_credentials', resource: API, client_id: clientId, client_secret: 'the secret' });
    expect((await ask()).status).toBe(401);
    const row: ClientRow = {
      clientId, name: 'later', type: 'confidential', secretHash: hashSecret('the secret'), grantTypes: ['client_credentials'],
      redirectUris: [], scopes: ['read'], disabled: false, dpopBoundAccessTokens: false, tokenEndpointAuthMethod: 'client_secret_basic', jwks: null, jwksUri: null, createdAt: 1, updatedAt: 1,
    };
    await insertClient(a.deps.db, row);
    await recordChange(a.deps.db);
    expect((await eventually(ask, 200)).status).toBe(200);
  });
});

describe('client authentication answers an unknown client exactly like a wrong secret (issue #10 item 6)', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    creds = await app.client({ scopes: ['read'] });
  });
  afterAll(() => app.close());

  const shape = async (res: Response) => {
    const headers = Object.fromEntries([...res.headers].filter(([name]) => !['date', 'x-request-id', 'content-length'].includes(name)));
    return { status: res.status, headers, body: await res.json() };
  };

  it('with HTTP Basic: same status, headers and body', async () => {
    const wrongSecret = await shape(await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, 'wrong'] }));
    const unknown = await shape(await app.token({ grant_type: 'client_credentials' }, { basic: ['unknown-client', 'wrong'] }));
    expect(wrongSecret.status).toBe(401);
    expect(unknown).toEqual(wrongSecret);
  });

  it('with client_secret_post: same status, headers and body', async () => {
    const wrongSecret = await shape(await app.token({ grant_type: 'client_credentials', client_id: creds.client_id, client_secret: 'wrong' }));
    const unknown = await shape(await app.token({ grant_type: 'client_credentials', client_id: 'unknown-client', client_secret: 'wrong' }));
    expect(wrongSecret.status).toBe(401);
    expect(unknown).toEqual(wrongSecret);
  });
});

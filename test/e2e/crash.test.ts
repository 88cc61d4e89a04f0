import { decodeJwt } from 'jose';
import knexFactory from 'knex';
import { Person, pkce } from '../helpers/browserless.js';
import { runCliProcess, startServerProcess, type ServerProcess } from '../helpers/processes.js';
import { onPostgres } from '../helpers/test-database.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

const API = 'https://api.example.com';
const REDIRECT = 'https://app.example.com/cb';
const PASSWORD = 'a long enough password';

/**
 * kill -9 in the middle of load: whatever was answered before the crash holds after a restart on
 * the same database — no revocation that was acknowledged is lost, no refresh token is ever
 * rotated twice — because each is committed by the database before the answer leaves.
 */
describe(`kill -9 mid-load on ${onPostgres ? 'PostgreSQL' : 'SQLite'}`, () => {
  let ws: Workspace;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    ws = await createWorkspace('crash');
    env = { DATABASE_URL: ws.databaseUrl, KEY_ENCRYPTION_SECRET: 'crash test secret value', RATE_LIMIT_CLIENT: '0', RATE_LIMIT_ADDRESS: '0', ISSUER: 'https://grantor.test' };
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await ws.remove();
  });

  it('loses no acknowledged revocation and rotates no refresh token twice', async () => {
    const cli = async (...args: string[]) => JSON.parse((await runCliProcess([...args, '--json'], { cwd: ws.cwd, env, input: `${PASSWORD}\n` })).stdout);
    await cli('resources', 'create', '--identifier', API, '--name', 'API', '--scope', 'read');
    const admin = await cli('clients', 'create', '--name', 'ops', '--scopes', 'admin');
    const m2m = await cli('clients', 'create', '--name', 'm2m', '--scopes', 'read');
    const spa = await cli('clients', 'create', '--name', 'spa', '--type', 'public', '--redirect-uris', REDIRECT, '--scopes', 'read');
    await cli('users', 'create', '--username', 'kai');
    server = await startServerProcess({ cwd: ws.cwd, env });
    const url = server.url;
    const post = (p: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${url}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });

    // Refresh tokens of one person's grant, and client_credentials grants to revoke.
    const person = new Person(url);
    const starts: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { verifier, challenge } = pkce();
      const back = await person.authorize(
        `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: spa.client_id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' })}`,
        { username: 'kai', password: PASSWORD },
      );
      const t = await (await post('/oauth/token', { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.client_id })).json();
      starts.push(t.refresh_token);
    }
    const adminToken = (await (await post('/oauth/token', { grant_type: 'client_credentials', scope: 'admin', client_id: admin.client_id, client_secret: admin.client_secret })).json()).access_token;

    // Load: refresh chains and revocations, recording every answer that arrived.
    const successors = new Map<string, Set<string>>();
    const acknowledged: string[] = [];
    let crashed = false;
    const chain = async (token: string) => {
      while (!crashed) {
        const res = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, client_id: spa.client_id }).catch(() => undefined);
        if (!res || res.status !== 200) return;
        const next = (await res.json()).refresh_token as string;
        successors.set(token, (successors.get(token) ?? new Set()).add(next));
        token = next;
      }
    };
    const revoker = async () => {
      while (!crashed) {
        const issued = await post('/oauth/token', { grant_type: 'client_credentials', client_id: m2m.client_id, client_secret: m2m.client_secret }).catch(() => undefined);
        if (!issued || issued.status !== 200) return;
        const grantId = decodeJwt((await issued.json()).access_token).grant_id as string;
        const res = await fetch(`${url}/admin/grants/${grantId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } }).catch(() => undefined);
        if (res?.status === 200) acknowledged.push(grantId);
      }
    };
    const load = Promise.all([...starts.map(chain), revoker(), revoker()]);
    await new Promise((r) => setTimeout(r, 1500));
    crashed = true;
    await server.stop('SIGKILL');
    await load;
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(successors.size).toBeGreaterThan(starts.length);

    // Restart on the same database.
    server = await startServerProcess({ cwd: ws.cwd, env });
    const feed = await (await fetch(`${server.url}/admin/revocations?limit=1000`, { headers: { Authorization: `Bearer ${adminToken}` } })).json();
    const listed = new Set(feed.items.map((r: { grant_id: string }) => r.grant_id));
    for (const grantId of acknowledged) expect(listed.has(grantId)).toBe(true);

    // No presented token ever got two different successors, and in the database every spent token
    // has exactly one successor.
    for (const nexts of successors.values()) expect(nexts.size).toBe(1);
    const db = knexFactory(onPostgres ? { client: 'pg', connection: ws.databaseUrl } : { client: 'sqlite3', connection: { filename: ws.databaseUrl.slice('sqlite:'.length) }, useNullAsDefault: true });
    try {
      const spent = await db('refresh_tokens').whereNotNull('used_at');
      for (const row of spent) expect(await db('refresh_tokens').where({ id: row.successor_id })).toHaveLength(1);
      // Every chain has at most one unspent token: its current one.
      const unspent = await db('refresh_tokens').whereNull('used_at').count({ n: '*' });
      expect(Number(unspent[0].n)).toBe(starts.length);
    } finally {
      await db.destroy();
    }
  }, 60_000);
});

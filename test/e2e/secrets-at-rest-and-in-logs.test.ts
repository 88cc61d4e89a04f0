/**
 * Review: "Secrets are stored only as hashes and never logged." Runs every flow that makes or
 * takes a secret (admin and self-registered clients, initial and registration access tokens, a
 * person's login and consent, code + refresh, an SSF push stream with an Authorization header),
 * plus failure paths, against an app whose log is captured at debug; then looks for every raw
 * secret in every column of every table, in the keys folder and in every log line.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/deps.js';
import { secretSealing } from '../../src/keys/sealing.js';
import { serverSecret } from '../../src/store/server-secrets.js';
import { describeDatabase, loadConfig } from '../../src/config.js';
import { Person } from '../helpers/browserless.js';
import { API, delegatedFixture, delegatedTokens, obtainCode, redeem, refresh, REDIRECT, signIn, type Delegated } from '../helpers/delegated.js';
import { eventually } from '../helpers/eventually.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { API_A, PUSH, ssfWorld } from '../helpers/ssf.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(line);
      done();
    },
  });
  return { lines, stream };
}

/** Every row of every table, as one JSON text per table. */
async function dumpDatabase(app: TestApp): Promise<Record<string, string>> {
  const db = app.deps.db;
  const client = (db.client as { config: { client: string } }).config.client;
  const names: string[] =
    client === 'pg'
      ? (await db.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()')).rows.map((r: { name: string }) => r.name)
      : (await db.raw("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r: { name: string }) => r.name);
  const out: Record<string, string> = {};
  for (const name of names) out[name] = JSON.stringify(await db(name).select('*'));
  return out;
}

/** Every file under a folder, as text. */
function dumpFolder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true } as { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join((entry as unknown as { parentPath?: string; path?: string }).parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    out[file] = fs.readFileSync(file, 'latin1');
  }
  return out;
}

/** The secrets (name → value) whose raw value appears in `where` (name → text). */
function leaks(secrets: Map<string, string>, where: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of secrets) {
    for (const [place, text] of Object.entries(where)) if (text.includes(value)) found.push(`${name} in ${place}`);
  }
  return found;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('secrets at rest and in the log, after every flow (review)', () => {
  let receiver: TestHttpsServer;
  let app: TestApp;
  let fx: Delegated;
  const log = capture();
  /** Every raw secret seen, by name (successful and refused ones alike). */
  const secrets = new Map<string, string>();
  const keep = (name: string, value: unknown) => {
    expect(typeof value).toBe('string');
    expect((value as string).length).toBeGreaterThanOrEqual(8);
    secrets.set(name, value as string);
    return value as string;
  };
  const pushed: Array<{ path: string; authorization: string | undefined }> = [];
  let keysDir: string;
  let bobId: string;
  let firstRefresh: string;
  let liveRefresh: string;
  let adminToken: string;

  beforeAll(async () => {
    receiver = await startHttpsServer((req, res) => {
      req.resume();
      req.on('end', () => {
        pushed.push({ path: req.url ?? '/', authorization: req.headers.authorization });
        res.writeHead(req.url === '/refuses-401' ? 401 : 202);
        res.end();
      });
    });
    keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-secrets-keys-'));
    app = await startTestApp({
      keysDir,
      logger: createLogger('debug', log.stream),
      env: { REGISTRATION: 'token', REGISTRATION_RATE_LIMIT: '0', OUTBOUND_ALLOWED_HOSTS: receiver.host, SSF_CHECK_INTERVAL: '50' },
    });
    fx = await delegatedFixture(app);
    keep('fixture introspecting client secret', fx.rs.client_secret);

    // An admin client registered straight in the registry, and its token.
    const adminCreds = await app.client({ name: 'ops admin', scopes: ['admin'] });
    keep('admin client secret', adminCreds.client_secret);
    const adminRes = await app.token({ grant_type: 'client_credentials', scope: 'admin' }, { basic: [adminCreds.client_id, adminCreds.client_secret] });
    const admin = keep('admin access token', (await adminRes.json()).access_token);

    // An admin-created confidential client over the admin API, its secret rotated.
    const created = await (await app.request('/admin/clients', { method: 'POST', token: admin, json: { name: 'billing', scopes: ['photos:read'] } })).json();
    keep('admin API client secret', created.client_secret);
    const rotated = await (await app.request(`/admin/clients/${created.client_id}/secret`, { method: 'POST', token: admin })).json();
    keep('rotated client secret', rotated.client_secret);
    const cc = await app.token({ grant_type: 'client_credentials', resource: API }, { basic: [created.client_id, rotated.client_secret] });
    expect(cc.status).toBe(200);
    keep('client_credentials access token', (await cc.json()).access_token);
    // client_secret_post too.
    const post = await app.token({ grant_type: 'client_credentials', resource: API, client_id: created.client_id, client_secret: rotated.client_secret });
    expect(post.status).toBe(200);

    // A person created and re-passworded over the admin API.
    const bob = await (await app.request('/admin/users', { method: 'POST', token: admin, json: { username: 'bob', password: keep('bob password', 'bob-initial-Pa55word!') } })).json();
    expect((await app.request(`/admin/users/${bob.id}`, { method: 'PATCH', token: admin, json: { password: keep('bob new password', 'bob-changed-Pa55word!') } })).status).toBe(200);
    keep('alice password', 'correct horse battery');

    // Initial access token → dynamic registration → registration access token (RFC 7591/7592).
    await app.request(`/admin/resources`, { token: admin });
    const resources = await (await app.request('/admin/resources?limit=200', { token: admin })).json();
    const photos = resources.items.find((r: { identifier: string }) => r.identifier === API);
    expect((await app.request(`/admin/resources/${photos.id}`, { method: 'PATCH', token: admin, json: { dynamic_client_scopes: ['photos:read'] } })).status).toBe(200);
    const minted = await (await app.request('/admin/registration-tokens', { method: 'POST', token: admin, json: { description: 'agents' } })).json();
    const initial = keep('initial access token', minted.token);
    const reg = await fetch(`${app.url}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${initial}` },
      body: JSON.stringify({ client_name: 'Agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }),
    });
    expect(reg.status).toBe(201);
    const registered = await reg.json();
    const rat = keep('registration access token', registered.registration_access_token);
    expect((await fetch(registered.registration_client_uri, { headers: { Authorization: `Bearer ${rat}` } })).status).toBe(200);
    const put = await fetch(registered.registration_client_uri, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${rat}` },
      body: JSON.stringify({ client_id: registered.client_id, client_name: 'Agent 2', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }),
    });
    expect(put.status).toBe(200);

    // A person signs in, consents; code + PKCE; refresh, twice (rotation).
    const person = new Person(app.url);
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    keep('authorization code', code);
    keep('PKCE verifier', verifier);
    keep('session cookie', person.jar.cookies.get('grantor_session'));
    keep('CSRF cookie', person.jar.cookies.get('grantor_csrf'));
    const redeemed = await redeem(app, fx.spa.client_id, code, verifier);
    expect(redeemed.status).toBe(200);
    const tokens = await redeemed.json();
    keep('code access token', tokens.access_token);
    keep('code refresh token', tokens.refresh_token);
    const r1 = await (await refresh(app, fx.spa.client_id, tokens.refresh_token)).json();
    keep('rotated refresh token', r1.refresh_token);
    keep('refreshed access token', r1.access_token);
    const r2 = await (await refresh(app, fx.spa.client_id, r1.refresh_token)).json();
    keep('second rotated refresh token', r2.refresh_token);
    // The self-registered client's own flow, signed in again in a fresh session.
    const other = new Person(app.url);
    const more = await delegatedTokens(app, other, fx.spa.client_id);
    keep('second session cookie', other.jar.cookies.get('grantor_session'));
    keep('second refresh token', more.refresh_token);
    // Introspection and revocation, which take tokens in the form.
    const intro = await fetch(`${app.url}/oauth/introspect`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(fx.rs.client_id, fx.rs.client_secret) }, body: new URLSearchParams({ token: r2.access_token }) });
    expect((await intro.json()).active).toBe(true);
    const moreRefreshed = await app.token({ grant_type: 'refresh_token', refresh_token: more.refresh_token, client_id: fx.spa.client_id });
    expect(moreRefreshed.status).toBe(200);
    firstRefresh = more.refresh_token;
    liveRefresh = keep('second grant rotated refresh token', (await moreRefreshed.json()).refresh_token);
    await fetch(`${app.url}/oauth/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: r2.refresh_token, client_id: fx.spa.client_id }) });

    // Shared Signals push streams whose receiver wants an Authorization header; one answers 401.
    const world = await ssfWorld(app);
    keep('ssf receiver client secret', world.receiver.client_secret);
    keep('ssf backend client secret', world.backend.client_secret);
    const ssfToken = keep('ssf access token', await world.receiverToken());
    const okHeader = keep('push Authorization header (202)', 'Bearer push-receiver-secret-0K-202');
    const badHeader = keep('push Authorization header (401)', 'Bearer push-receiver-secret-REFUSED-401');
    await world.createStream(ssfToken, { delivery: { method: PUSH, endpoint_url: `${receiver.origin}/ok`, authorization_header: okHeader }, aud: API_A });
    await world.createStream(ssfToken, { delivery: { method: PUSH, endpoint_url: `${receiver.origin}/refuses-401`, authorization_header: badHeader }, aud: API_A });
    const { grantId } = await world.grantOn(API_A);
    await world.revoke(grantId, 'pushed');
    await eventually(() => pushed.some((p) => p.path === '/ok') && pushed.some((p) => p.path === '/refuses-401'));
    expect(pushed.find((p) => p.path === '/ok')?.authorization).toBe(okHeader);
    await eventually(() => log.lines.some((l) => l.includes('push failed')));

    // Failure paths: each presents a secret-looking value that must not be kept or logged.
    const wrong = keep('wrong client secret', 'wrong-secret-Zq8xv1');
    expect((await app.token({ grant_type: 'client_credentials' }, { basic: [created.client_id, wrong] })).status).toBe(401);
    expect((await app.token({ grant_type: 'client_credentials', client_id: created.client_id, client_secret: keep('wrong post secret', 'wrong-post-secret-Hh3') })).status).toBe(401);
    const malformed = keep('malformed Authorization header value', 'NotBasic-malformed-credential-4kd');
    expect((await app.token({ grant_type: 'client_credentials' }, { headers: { Authorization: `Basic ${malformed}` } })).status).toBeGreaterThanOrEqual(400);
    expect((await app.token({ grant_type: 'client_credentials' }, { headers: { Authorization: malformed } })).status).toBeGreaterThanOrEqual(400);
    expect((await refresh(app, fx.spa.client_id, keep('bad refresh token', 'bad-refresh-token-Yt6'))).status).toBe(400);
    expect((await redeem(app, fx.spa.client_id, keep('bad code', 'bad-authorization-code-Pp2'), verifier)).status).toBe(400);
    expect((await app.request('/admin/clients', { token: keep('bad bearer token', 'bad-bearer-token-Qw7') })).status).toBe(401);
    expect((await fetch(registered.registration_client_uri, { headers: { Authorization: `Bearer ${keep('bad registration token', 'bad-registration-token-Mn4')}` } })).status).toBe(401);
    expect((await fetch(`${app.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${keep('bad initial token', 'bad-initial-token-Lk9')}` }, body: '{}' })).status).toBe(401);
    const loginFail = await signIn(new Person(app.url), 'alice', keep('bad password', 'bad-password-Vb5'));
    expect(loginFail.status).toBeGreaterThanOrEqual(200);
    // An admin API error that carries no secret in its body.
    expect((await app.request(`/admin/users/no-such-user`, { method: 'PATCH', token: admin, json: { disabled: true } })).status).toBe(404);
    bobId = bob.id;
    adminToken = admin;
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await receiver.close();
    fs.rmSync(keysDir, { recursive: true, force: true });
  });

  it('stores no raw secret in any table after every flow', async () => {
    const dump = await dumpDatabase(app);
    expect(Object.keys(dump)).toEqual(expect.arrayContaining(['clients', 'users', 'sessions', 'authorization_codes', 'refresh_tokens', 'registration_tokens', 'ssf_streams', 'signing_keys']));
    expect(leaks(secrets, dump)).toEqual([]);
  });

  it('keeps the push Authorization header sealed (AES-GCM, v1.…), not in plaintext', async () => {
    const rows = await app.deps.db('ssf_streams').whereNotNull('authorization_header').select('authorization_header');
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r.authorization_header).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('keeps signing keys sealed in the database and no secret in the keys folder', async () => {
    const keys = await app.deps.db('signing_keys').select('*');
    for (const k of keys) {
      expect(JSON.stringify(k)).not.toMatch(/PRIVATE KEY|"d":/);
      expect(k.sealed_private_key ?? k.private_key).toMatch(/^v1\./);
    }
    const files = dumpFolder(keysDir);
    expect(Object.keys(files).map((f) => path.basename(f))).toEqual(['key-encryption.secret']);
    expect(fs.statSync(Object.keys(files)[0]).mode & 0o077).toBe(0);
    expect(leaks(secrets, files)).toEqual([]);
  });

  it('logs no raw secret at debug level after every flow and failure path', () => {
    expect(log.lines.length).toBeGreaterThan(50);
    const all = { log: log.lines.join('\n') };
    expect(leaks(secrets, all)).toEqual([]);
  });

  it('lets no database dump derive a live refresh token from a spent one (the successor key is not stored in the clear)', async () => {
    // What a thief holds: a dump of the database and one refresh token that was spent long ago.
    const rows = await app.deps.db('server_secrets').select('*');
    const key = rows.find((r: { name: string }) => r.name === 'refresh-successor')?.value as string | undefined;
    const hashes = new Set((await app.deps.db('refresh_tokens').select('token_hash')).map((r: { token_hash: string }) => r.token_hash));
    let derived: string | undefined;
    if (key) {
      let t = firstRefresh;
      for (let i = 0; i < 5 && derived === undefined; i++) {
        t = createHmac('sha256', key).update(`refresh-successor:${t}`).digest('base64url');
        // Offline: the dump's hashes say which successor is the one still stored, no request made.
        if (hashes.has(createHash('sha256').update(t).digest('base64url')) && t !== firstRefresh) derived = t;
      }
    }
    expect(derived).not.toBe(liveRefresh);
  });

  it('copies no part of a refused JSON body (a password an admin sent) into the log', async () => {
    log.lines.length = 0;
    // A client that sends single-quoted JSON (e.g. a Python dict printed with str()): 400, fine; the
    // parser's message quotes the body around the error, and that message is logged as `detail`.
    const password = 'Hunter2pw';
    const res = await app.request(`/admin/users/${bobId}`, { method: 'PATCH', token: adminToken, headers: { 'Content-Type': 'application/json' }, body: `{"password":'${password}'}` });
    expect(res.status).toBe(400);
    expect(log.lines.filter((l) => l.includes('request refused')).length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain(password);
  });

  it('logs no whole access token, and no refresh token, code or cookie, in any line', () => {
    for (const line of log.lines) expect(line).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
  });
});

describe('secrets in the log at info level (review)', () => {
  it('logs no raw secret at info after a registration, a wrong secret and a failed login', async () => {
    const log = capture();
    const app = await startTestApp({ logger: createLogger('info', log.stream), env: { REGISTRATION: 'open', REGISTRATION_RATE_LIMIT: '0' } });
    try {
      const fx = await delegatedFixture(app);
      const person = new Person(app.url);
      const tokens = await delegatedTokens(app, person, fx.spa.client_id);
      const reg = await (await fetch(`${app.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) })).json();
      await app.token({ grant_type: 'client_credentials' }, { basic: [fx.rs.client_id, 'info-wrong-secret-1'] });
      await signIn(new Person(app.url), 'alice', 'info-bad-password-2');
      const secrets = new Map<string, string>([
        ['rs secret', fx.rs.client_secret],
        ['access token', tokens.access_token],
        ['refresh token', tokens.refresh_token],
        ['registration access token', reg.registration_access_token],
        ['session', person.jar.cookies.get('grantor_session')!],
        ['wrong secret', 'info-wrong-secret-1'],
        ['bad password', 'info-bad-password-2'],
        ['password', 'correct horse battery'],
      ]);
      expect(log.lines.length).toBeGreaterThan(5);
      expect(leaks(secrets, { log: log.lines.join('\n') })).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('secrets out of band (review)', () => {
  it('serves /metrics without any secret, and binds the ops listener to loopback by default', async () => {
    const app = await startTestApp({ env: { OPS_PORT: '0' } });
    try {
      const creds = await app.client({ name: 'metered', scopes: [] });
      await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, creds.client_secret] });
      await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, 'metrics-wrong-secret'] });
      const metrics = await (await fetch(`${app.opsUrl}/metrics`)).text();
      expect(metrics).toContain('grantor_oauth_errors_total');
      expect(metrics).not.toContain(creds.client_secret);
      expect(metrics).not.toContain('metrics-wrong-secret');
      expect(loadConfig({ OPS_PORT: '9100' }).ops?.host).toBe('127.0.0.1');
    } finally {
      await app.close();
    }
  });

  // main.ts logs describeDatabase(config.database) in its start-up line.
  it('hides the database password of DATABASE_URL in the start-up line (userinfo form)', () => {
    expect(describeDatabase({ client: 'pg', connectionString: 'postgres://grantor:s3cret-pw@db.internal/grantor' })).not.toContain('s3cret-pw');
  });

  it('hides the whole database password in the start-up line when it holds an unescaped @ (pg accepts it)', () => {
    expect(describeDatabase({ client: 'pg', connectionString: 'postgres://grantor:p@ss-w0rd@db.internal/grantor' })).not.toContain('ss-w0rd');
  });

  it('hides the database password in the start-up line when DATABASE_URL carries it as ?password= (pg accepts it)', () => {
    expect(describeDatabase({ client: 'pg', connectionString: 'postgres://grantor@db.internal/grantor?password=s3cret-qs-pw' })).not.toContain('s3cret-qs-pw');
  });
});

describe('server secrets stored in the clear by an older version', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('seals one in place, its value unchanged (refresh chains made before go on)', async () => {
    const sealing = secretSealing(randomBytes(32));
    await app.deps.db('server_secrets').insert({ name: 'from-an-older-version', value: 'plain-legacy-value', created_at: 1 });
    expect(await serverSecret(app.deps.db, 'from-an-older-version', () => 'never made', sealing, 2)).toBe('plain-legacy-value');
    const stored = (await app.deps.db('server_secrets').where({ name: 'from-an-older-version' }).first()).value as string;
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain('plain-legacy-value');
    expect(await serverSecret(app.deps.db, 'from-an-older-version', () => 'never made', sealing, 3)).toBe('plain-legacy-value');
  });
});

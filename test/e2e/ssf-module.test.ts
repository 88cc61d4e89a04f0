/**
 * Issue #13 item 5: the resource-server module (createVerifier with `revocationEvents`) against the
 * real transmitter — not the fake one of revocation-events-*.test.ts — through poll (RFC 8936) and
 * push (RFC 8935), after a receiver restart and an instance restart (nothing lost), across two
 * instances on one database, and its fallback to the status list when the stream cannot be had.
 *
 * In the stream cases Grantor runs with STATUS_LIST_TTL=300 and the verifier has fetched the list
 * before the revocation, so within the test a refusal can only come from the stream; where a fresh
 * verifier would fetch a fresh list, it is built with `statusList: false` for the same reason.
 * Waits are correctness bounds (a couple of seconds), never speed assertions: the speed is
 * measured by `npm run bench`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import Koa from 'koa';
import { createVerifier, revocationReceiver, type Verifier, type VerifierOptions } from '../../src/resource-server/index.js';
import { Person, formFields } from '../helpers/browserless.js';
import { API, delegatedFixture, delegatedTokens } from '../helpers/delegated.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { outcome, sleep, until } from '../helpers/eventually.js';
import { createWorkspace } from '../helpers/workspace.js';

type Creds = { client_id: string; client_secret: string };
type RevocationEvents = NonNullable<VerifierOptions['revocationEvents']>;

const LONG_TTL = { STATUS_LIST_TTL: '300' };
/** The correctness bound of a refusal through the stream (the bench measures the real figure). */
const STREAM_BOUND_MS = 3000;
const REVOKED = 'invalid_token: the token’s grant is revoked';

/** Verifies `token` every 20 ms until it is refused as revoked, or fails after `ms`; resolves to the ms it took. */
async function refusedWithin(verifier: Verifier, token: string, ms: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const said = await outcome(verifier, token);
    if (said === REVOKED) return Date.now() - start;
    if (said !== 'ok') throw new Error(`refused for another reason: ${said}`);
    if (Date.now() - start > ms) throw new Error(`still accepted ${ms} ms after the revocation`);
    await sleep(20);
  }
}

/**
 * One or more Grantor instances on one database under one issuer, as behind a load balancer: the
 * resource server reaches "the issuer" through `fetch`, which sends each request to the instance
 * `route()` names. Admin calls go to a named instance directly.
 */
interface Cluster {
  issuer: string;
  start(env?: Record<string, string>): Promise<TestApp>;
  /** The instance the resource server's requests to the issuer reach. */
  route(app: TestApp): void;
  /** While true, requests to the issuer's /ssf/ paths fail as a network error (a proxy that stopped routing them). */
  ssfUnreachable: boolean;
  fetch: typeof fetch;
  close(): Promise<void>;
}

async function startCluster(env: Record<string, string> = {}): Promise<Cluster> {
  const issuer = 'https://grantor.example';
  const ws = await createWorkspace('ssf-module');
  const shared = { DATABASE_URL: ws.databaseUrl, KEY_ENCRYPTION_SECRET: 'the same secret on every instance', ISSUER: issuer, ...env };
  const running = new Set<TestApp>();
  let target: TestApp | undefined;
  const cluster: Cluster = {
    issuer,
    ssfUnreachable: false,
    async start(extra = {}) {
      const app = await startTestApp({ env: { ...shared, ...extra }, keysDir: fs.mkdtempSync(path.join(ws.cwd, 'keys-')) });
      running.add(app);
      const close = app.close.bind(app);
      app.close = async () => {
        if (!running.delete(app)) return;
        await close();
      };
      target ??= app;
      return app;
    },
    route(app) {
      target = app;
    },
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!target) throw new TypeError('no instance running');
      if (cluster.ssfUnreachable && url.startsWith(`${issuer}/ssf/`)) return Promise.reject(new TypeError('fetch failed'));
      return fetch(url.startsWith(issuer) ? target.url + url.slice(issuer.length) : url, init);
    }) as typeof fetch,
    async close() {
      for (const app of [...running]) await app.close();
      await ws.remove();
    },
  };
  return cluster;
}

/** The registry every case needs, made by an admin over HTTP: the resource server's client with scope `ssf`, and a backend holding grants on the API. */
async function register(app: TestApp): Promise<{ rs: Creds; backend: Creds; bystander: Creds; admin: string }> {
  const admin = await app.adminToken();
  const create = async (body: Record<string, unknown>) => {
    const res = await app.request('/admin/clients', { method: 'POST', token: admin, json: body });
    if (res.status !== 201) throw new Error(`POST /admin/clients answered ${res.status}: ${await res.text()}`);
    const { client_id, client_secret } = await res.json();
    return { client_id, client_secret } as Creds;
  };
  // The `ssf` scope belongs to Grantor's own resource (src/registry/resources.ts): an admin allows it to the API's client.
  const rs = await create({ name: 'Photos API', grant_types: ['client_credentials'], scopes: ['ssf'] });
  const backend = await create({ name: 'photo backend', grant_types: ['client_credentials'], scopes: ['photos:read'] });
  // client_credentials has one standing grant per client and resource: another grant needs another client.
  const bystander = await create({ name: 'another backend', grant_types: ['client_credentials'], scopes: ['photos:read'] });
  return { rs, backend, bystander, admin };
}

async function grantOn(app: TestApp, backend: Creds): Promise<{ token: string; grantId: string }> {
  const res = await app.token({ grant_type: 'client_credentials', resource: API, scope: 'photos:read' }, { basic: [backend.client_id, backend.client_secret] });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
  const token = (await res.json()).access_token as string;
  return { token, grantId: decodeJwt(token).grant_id as string };
}

async function adminRevoke(app: TestApp, admin: string, grantId: string): Promise<void> {
  const res = await app.request(`/admin/grants/${encodeURIComponent(grantId)}`, { method: 'DELETE', token: admin, json: { reason: 'compromised' } });
  if (res.status !== 200) throw new Error(`DELETE /admin/grants answered ${res.status}: ${await res.text()}`);
}

/** A koa API on loopback https whose push receiver is mounted once the verifier exists (its URL is needed first). */
async function startPushApi(): Promise<{ server: TestHttpsServer; url: string; mount(verifier: Verifier | undefined): void }> {
  const koa = new Koa();
  let receiver: ReturnType<typeof revocationReceiver> | undefined;
  koa.use((ctx, next) => (receiver ? receiver(ctx, next) : next()));
  // No verifier mounted: the API is down (RFC 8935 §2.3: a 5xx has the transmitter retry).
  koa.use((ctx) => {
    ctx.status = 503;
  });
  const server = await startHttpsServer(koa.callback());
  return { server, url: `${server.origin}/ssf/events`, mount: (verifier) => void (receiver = verifier && revocationReceiver(verifier)) };
}

describe('the resource-server module against the real transmitter', () => {
  let cluster: Cluster;
  let app: TestApp;
  let creds: Awaited<ReturnType<typeof register>>;
  const verifiers: Verifier[] = [];
  const logs: string[] = [];

  const verifierFor = (events: Partial<RevocationEvents> = {}, extra: Partial<VerifierOptions> = {}) => {
    const verifier = createVerifier({
      issuer: cluster.issuer,
      audience: API,
      fetch: cluster.fetch,
      revocationEvents: { credentials: { clientId: creds.rs.client_id, clientSecret: creds.rs.client_secret }, logger: (line) => logs.push(line), retryDelay: { min: 50, max: 200 }, ...events },
      ...extra,
    });
    verifiers.push(verifier);
    return verifier;
  };

  afterEach(async () => {
    for (const v of verifiers.splice(0)) await v.close();
    // A poll the verifier just sent may still be in Grantor's hands: let it end before an instance closes its database.
    await sleep(100);
    logs.length = 0;
  });

  describe('poll delivery (RFC 8936), one instance', () => {
    let fx: Awaited<ReturnType<typeof delegatedFixture>>;
    beforeAll(async () => {
      cluster = await startCluster(LONG_TTL);
      app = await cluster.start();
      fx = await delegatedFixture(app);
      creds = await register(app);
    });
    afterAll(() => cluster.close());

    it('refuses a token once an admin revokes its grant (DELETE /admin/grants/:id), through the stream', async () => {
      const verifier = verifierFor();
      const doomed = await grantOn(app, creds.backend);
      const kept = await grantOn(app, creds.bystander);
      expect(await outcome(verifier, doomed.token)).toBe('ok'); // the status list (ttl 300 s) is now cached
      await until(() => verifier.revocationState().channel === 'stream', 'the stream is polled');
      await adminRevoke(app, creds.admin, doomed.grantId);
      await refusedWithin(verifier, doomed.token, STREAM_BOUND_MS);
      expect(await outcome(verifier, kept.token)).toBe('ok');
      expect(verifier.revocationState()).toMatchObject({ channel: 'stream', delivery: 'poll', revokedGrants: 1, lastEventAt: expect.any(Number) });
      expect(logs).toEqual([expect.stringMatching(/receiving on stream \S+ \(poll\)/)]);
    });

    it('refuses a person’s token once they take access back on /account', async () => {
      const verifier = verifierFor();
      const alice = new Person(app.url);
      const t = await delegatedTokens(app, alice, fx.spa.client_id);
      expect(await outcome(verifier, t.access_token)).toBe('ok');
      await until(() => verifier.revocationState().channel === 'stream', 'the stream is polled');
      const page = await (await alice.get('/account')).text();
      const res = await alice.post(`/account/grants/${t.grant_id}/revoke`, { csrf: formFields(page).csrf });
      expect(res.status).toBe(303);
      await refusedWithin(verifier, t.access_token, STREAM_BOUND_MS);
    });

    it('refuses the access token once the app revokes its refresh token (RFC 7009 §2.1: the whole grant)', async () => {
      const verifier = verifierFor();
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      expect(await outcome(verifier, t.access_token)).toBe('ok');
      await until(() => verifier.revocationState().channel === 'stream', 'the stream is polled');
      const res = await fetch(`${app.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: t.refresh_token, token_type_hint: 'refresh_token', client_id: fx.spa.client_id }),
      });
      expect(res.status).toBe(200);
      await refusedWithin(verifier, t.access_token, STREAM_BOUND_MS);
    });

    it('after a receiver restart with its streamId kept, refuses a token revoked while it was down (nothing lost)', async () => {
      const first = verifierFor({ streamId: 'first-start' });
      await until(() => first.revocationState().channel === 'stream', 'the stream is polled');
      const streamId = first.revocationState().streamId!;
      expect(streamId).not.toBe('first-start'); // none by that id: one was made, and kept
      await first.close();
      const { token, grantId } = await grantOn(app, creds.backend);
      await adminRevoke(app, creds.admin, grantId);
      // Without the status list, so that only the stream's queued event can refuse the token.
      const second = verifierFor({ streamId }, { statusList: false });
      await refusedWithin(second, token, STREAM_BOUND_MS);
      expect(second.revocationState()).toMatchObject({ channel: 'stream', streamId });
    });
  });

  describe('push delivery (RFC 8935) to the koa receiver on loopback https', () => {
    let api: Awaited<ReturnType<typeof startPushApi>>;
    beforeAll(async () => {
      api = await startPushApi();
      cluster = await startCluster({ ...LONG_TTL, OUTBOUND_ALLOWED_HOSTS: api.server.host });
      app = await cluster.start();
      await delegatedFixture(app);
      creds = await register(app);
    });
    afterAll(async () => {
      await cluster.close();
      await api.server.close();
    });

    it('refuses a token once its grant is revoked, as soon as the push is answered', async () => {
      const verifier = verifierFor({ delivery: 'push', pushEndpointUrl: api.url });
      api.mount(verifier);
      await until(() => verifier.revocationState().channel === 'stream', 'the verification event came back');
      const { token, grantId } = await grantOn(app, creds.backend);
      expect(await outcome(verifier, token)).toBe('ok');
      await adminRevoke(app, creds.admin, grantId);
      await refusedWithin(verifier, token, STREAM_BOUND_MS);
      expect(verifier.revocationState()).toMatchObject({ channel: 'stream', delivery: 'push', revokedGrants: 1 });
    });

    // Regression: the SET was pushed with the old process's secret before the new one was PATCHed onto
    // the stream; the receiver answered 400 authentication_failed and Grantor dropped it for good.
    it('after a receiver restart with its streamId kept, gets the SET pushed while it was down, even when a push with the old secret comes first (nothing lost)', async () => {
      const first = verifierFor({ delivery: 'push', pushEndpointUrl: api.url, streamId: 'push-first-start' });
      api.mount(first);
      await until(() => first.revocationState().channel === 'stream', 'the verification event came back');
      const streamId = first.revocationState().streamId!;
      await first.close();
      api.mount(undefined); // down: pushes answer 503 and are retried
      const { token, grantId } = await grantOn(app, creds.backend);
      await adminRevoke(app, creds.admin, grantId);
      // The new process has a new Authorization secret (PATCHed onto the stream), and no status list.
      const second = verifierFor({ delivery: 'push', pushEndpointUrl: api.url, streamId }, { statusList: false });
      api.mount(second);
      // The retried push comes after the transmitter's backoff (1 s, then 2 s …): a looser bound here.
      await refusedWithin(second, token, 8000);
      expect(second.revocationState()).toMatchObject({ streamId });
    });
  });

  describe('instances', () => {
    let api: Awaited<ReturnType<typeof startPushApi>>;
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      api = await startPushApi();
      cluster = await startCluster({ ...LONG_TTL, OUTBOUND_ALLOWED_HOSTS: api.server.host });
      a = await cluster.start();
      b = await cluster.start();
      await delegatedFixture(a);
      creds = await register(a);
    });
    afterAll(async () => {
      await cluster.close();
      await api.server.close();
    });

    it('refuses a token revoked on instance A while the resource server long-polls instance B', async () => {
      cluster.route(b);
      const verifier = verifierFor();
      const { token, grantId } = await grantOn(a, creds.backend);
      expect(await outcome(verifier, token)).toBe('ok');
      await until(() => verifier.revocationState().channel === 'stream', 'the stream is polled');
      await adminRevoke(a, creds.admin, grantId);
      await refusedWithin(verifier, token, STREAM_BOUND_MS);
    });

    it('pushes a revocation made on instance B on a push stream created through instance A', async () => {
      cluster.route(a);
      const verifier = verifierFor({ delivery: 'push', pushEndpointUrl: api.url });
      api.mount(verifier);
      await until(() => verifier.revocationState().channel === 'stream', 'the verification event came back');
      const { token, grantId } = await grantOn(b, creds.backend);
      expect(await outcome(verifier, token)).toBe('ok');
      await adminRevoke(b, creds.admin, grantId);
      await refusedWithin(verifier, token, STREAM_BOUND_MS);
    });

    it('after an instance restart, delivers a revocation made on the stopped instance while the receiver was down (nothing lost)', async () => {
      cluster.route(a);
      const first = verifierFor({ streamId: 'kept-stream' });
      await until(() => first.revocationState().channel === 'stream', 'the stream is polled');
      const streamId = first.revocationState().streamId!;
      await first.close(); // the resource server is down
      const { token, grantId } = await grantOn(a, creds.backend);
      await adminRevoke(a, creds.admin, grantId);
      await a.close(); // the instance that queued the event stops before anyone polled it
      const c = await cluster.start();
      cluster.route(c);
      const second = verifierFor({ streamId }, { statusList: false });
      await refusedWithin(second, token, STREAM_BOUND_MS);
    });
  });

  describe('fallback to the status list', () => {
    beforeAll(async () => {
      cluster = await startCluster({ STATUS_LIST_TTL: '1' });
      app = await cluster.start();
      await delegatedFixture(app);
      creds = await register(app);
    });
    afterAll(() => cluster.close());

    it('says status-list-only with one log line when no stream can be made, and still refuses a revoked token within the list’s ttl + 1 s', async () => {
      // The admin forgot to allow this client the `ssf` scope: the token request fails, so does the stream.
      const res = await app.request('/admin/clients', { method: 'POST', token: creds.admin, json: { name: 'forgotten', grant_types: ['client_credentials'], scopes: [] } });
      const forgotten = (await res.json()) as Creds;
      const verifier = verifierFor({ credentials: { clientId: forgotten.client_id, clientSecret: forgotten.client_secret } });
      await until(() => verifier.revocationState().lastError !== undefined, 'the stream failed');
      expect(verifier.revocationState()).toMatchObject({ channel: 'status-list-only', lastError: expect.stringMatching(/token endpoint answered 400/) });
      const { token, grantId } = await grantOn(app, creds.backend);
      expect(await outcome(verifier, token)).toBe('ok');
      await adminRevoke(app, creds.admin, grantId);
      await refusedWithin(verifier, token, 2000); // STATUS_LIST_TTL 1 s + 1 s
      await sleep(300); // more attempts at the stream meanwhile: still one line
      expect(logs).toEqual([expect.stringMatching(/falling back to the status list alone \(token endpoint answered 400/)]);
    });

    it('falls back when the transmitter becomes unreachable, keeps refusing revoked tokens by the status list, and resumes the stream when it is back', async () => {
      // An instance whose long polls end after 1 s, so that the resource server soon calls again.
      const other = await cluster.start({ SSF_LONG_POLL_TIMEOUT: '1' });
      cluster.route(other);
      const verifier = verifierFor();
      await until(() => verifier.revocationState().channel === 'stream', 'the stream is polled');
      // The issuer's /ssf/ paths become unreachable (a proxy stops routing them); the status list is still served.
      cluster.ssfUnreachable = true;
      await until(() => verifier.revocationState().channel === 'status-list-only', 'the fallback');
      const { token, grantId } = await grantOn(app, creds.backend);
      expect(await outcome(verifier, token)).toBe('ok');
      await adminRevoke(app, creds.admin, grantId);
      await refusedWithin(verifier, token, 2000); // STATUS_LIST_TTL 1 s + 1 s
      await sleep(300); // more failed attempts meanwhile: still one line
      expect(logs.filter((l) => /falling back/.test(l))).toEqual([expect.stringMatching(/the transmitter could not be reached/)]);
      cluster.ssfUnreachable = false;
      await until(() => verifier.revocationState().channel === 'stream', 'the stream again');
      expect(logs.filter((l) => /receiving on stream/.test(l))).toHaveLength(2);
    });
  });
});

/**
 * Hostile requests against the Shared Signals streams, DPoP proof handling (token endpoint and the
 * resource-server module) and the admin keys endpoints (from a security review on 2026-11-30, after
 * those of hostile-grant-requests.test.ts and hostile-outbound-and-pages.test.ts). Each test is
 * named for the attack it tries; attacks already pinned elsewhere in test/ are not repeated here.
 */
import { randomUUID } from 'node:crypto';
import { ath, dpopKey, proof, type DpopKey } from '../helpers/dpop.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { startResourceApi } from '../helpers/resource-api.js';
import { API_A, POLL, PUSH, ssfWorld, type SsfWorld } from '../helpers/ssf.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createVerifier } from '../../src/resource-server/index.js';
import { eventually } from '../helpers/eventually.js';

const API = 'https://api.example.com';

describe('hostile: Shared Signals streams (SSF 1.0 §8.1, RFC 8935)', () => {
  let receiver: TestHttpsServer;
  let app: TestApp;
  let world: SsfWorld;
  const received = new Map<string, string[]>();

  beforeAll(async () => {
    receiver = await startHttpsServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        received.set(path, [...(received.get(path) ?? []), Buffer.concat(chunks).toString()]);
        res.writeHead(202);
        res.end();
      });
    });
    app = await startTestApp({ env: { OUTBOUND_ALLOWED_HOSTS: receiver.host, SSF_CHECK_INTERVAL: '50', SSF_MAX_STREAMS_PER_CLIENT: '2', RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    world = await ssfWorld(app);
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  // README "Revocation events": a stream belongs to a client allowed `ssf`; "a scope taken from the
  // client since the token was issued is no longer honoured". SSF 1.0 §8.1: only an authorized
  // receiver gets a stream's events. An admin who takes `ssf` away has withdrawn that authorization.
  it('stops pushing revocation events (grant ids, client ids) to a client once an admin takes its ssf permission away', async () => {
    const rs = await app.client({ name: 'demoted rs', scopes: ['ssf', 'a:read'] });
    await world.createStream(await world.receiverToken(rs), { delivery: { method: PUSH, endpoint_url: `${receiver.origin}/demoted` }, aud: API_A });
    // While it holds `ssf`, the stream works.
    await world.revoke((await world.grantOn(API_A)).grantId);
    await eventually(() => (received.get('/demoted')?.length ?? 0) === 1);

    const admin = await app.adminToken();
    const patched = await app.request(`/admin/clients/${rs.client_id}`, { method: 'PATCH', token: admin, json: { scopes: ['a:read'] } });
    expect(patched.status).toBe(200);
    // The client can no longer manage or poll anything (403 insufficient_scope)...
    const t = await app.token({ grant_type: 'client_credentials', scope: 'ssf' }, { basic: [rs.client_id, rs.client_secret] });
    expect(t.status).toBe(400);
    // ...yet revocations made after the permission was withdrawn must not reach it either.
    await world.revoke((await world.grantOn(API_A)).grantId, 'after the demotion');
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.get('/demoted')).toHaveLength(1);
  });

  // README: "A client may have SSF_MAX_STREAMS_PER_CLIENT streams (10) … more → 409". Each stream
  // gets its own copy of every revocation event of its audience, so the cap bounds the writes one
  // client can cause per revocation.
  it('holds to the per-client stream cap when one client creates streams concurrently (no check-then-insert race)', async () => {
    const rs = await app.client({ name: 'greedy rs', scopes: ['ssf'] });
    const token = await world.receiverToken(rs);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => app.request('/ssf/streams', { method: 'POST', token, json: { delivery: { method: POLL }, aud: API_A } })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const list = (await (await app.request('/ssf/streams', { token })).json()) as unknown[];
    expect(list.length).toBeLessThanOrEqual(2);
    expect(statuses.filter((s) => s === 201)).toHaveLength(list.length);
  });
});

describe('hostile: DPoP proof keys (RFC 9449 §4.3)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  // A public JWK is public: anyone who saw one proof (an API, a proxy, a log) has it. Adding
  // `key_ops: []` changes no thumbprint member (RFC 7638 §3.2) but imports a key that can verify
  // nothing, and the import succeeds, so it is remembered under the victim's thumbprint. The cache
  // is FIFO with 1000 entries, and a proof's key is imported (and kept) before its signature is
  // checked: a thousand junk proofs (fresh real public keys, no valid signature) push the victim's
  // good key out first. RFC 9449 §4.3: a proof that passes every check MUST be accepted; and a
  // refused request must change no state (standards.md "Attack classes every endpoint must survive").
  const poisoned = async (victim: DpopKey, htm: string, htu: string, claims: Record<string, unknown> = {}) => {
    const attacker = await dpopKey('ES256');
    return proof(victim, htm, htu, { header: { jwk: { ...victim.publicJwk, key_ops: [] } }, signWith: attacker.privateKey, claims });
  };
  /** A proof whose header names a fresh (real) public key, with no valid signature: refused, but its key stays imported. */
  const junk = async (htm: string, htu: string) => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const { publicJwk } = await dpopKey('ES256');
    return `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })}.${b64({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}.AAAA`;
  };
  async function inBatches(n: number, send: () => Promise<unknown>): Promise<void> {
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => send()));
  }

  // standards.md "Attack classes every endpoint must survive (4xx, never 5xx)": forged JWTs with an
  // embedded jwk. An EC key whose point is not on its curve makes WebCrypto throw a DOMException
  // (DataError), which is neither a JOSEError, a TypeError nor a SyntaxError.
  const offCurve = (htm: string, htu: string) => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const coord = Buffer.alloc(32, 1).toString('base64url');
    return `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: coord, y: coord } })}.${b64({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}.AAAA`;
  };

  it('answers a proof whose jwk is not a point on its curve with 400 invalid_dpop_proof at the token endpoint, never a 500 (both paths)', async () => {
    const creds = await app.client({ name: 'off-curve', scopes: ['read'] });
    for (const headers of [{}, { Origin: 'https://elsewhere.example' }] as Array<Record<string, string>>) {
      const res = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret], headers: { DPoP: offCurve('POST', `${app.url}/oauth/token`), ...headers } });
      expect([res.status, (await res.json()).error]).toEqual([400, 'invalid_dpop_proof']);
    }
  });

  it('answers a proof whose jwk is not a point on its curve with 401 invalid_dpop_proof at the resource-server module, never a 500', async () => {
    const verifier = createVerifier({ issuer: app.issuer, audience: API });
    const api = await startResourceApi(verifier);
    try {
      const key = await dpopKey('ES256');
      const c = await app.client({ name: 'off-curve rs', scopes: ['read'] });
      const token = (await (await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [c.client_id, c.client_secret], headers: { DPoP: await proof(key, 'POST', `${app.url}/oauth/token`) } })).json()).access_token;
      const res = await fetch(`${api.url}/read`, { headers: { Authorization: `DPoP ${token}`, DPoP: offCurve('GET', `${api.url}/read`) } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    } finally {
      await api.close();
    }
  });

  it('does not let an unauthenticated caller lock a client\'s DPoP key out of the token endpoint (1000 junk proofs, then the victim\'s public key with key_ops: [])', async () => {
    const victim = await dpopKey('ES256');
    const creds = await app.client({ name: 'dpop victim', scopes: ['read'] });
    const htu = `${app.url}/oauth/token`;
    const ask = async () => app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret], headers: { DPoP: await proof(victim, 'POST', htu) } });
    expect((await ask()).status).toBe(200);
    // The attacker holds no credentials at all: the proof is looked at before the client is.
    const anonymous = (dpop: string) => app.token({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' }, { headers: { DPoP: dpop } });
    await inBatches(1000, async () => anonymous(await junk('POST', htu)));
    expect((await anonymous(await poisoned(victim, 'POST', htu))).status).toBe(400);
    const res = await ask();
    expect([res.status, (await res.json()).token_type]).toEqual([200, 'DPoP']);
  });

  it('does not let one API client lock another client\'s DPoP key out of the resource-server module (junk proofs, then a poisoned one, with its own bound token)', async () => {
    const verifier = createVerifier({ issuer: app.issuer, audience: API });
    const api = await startResourceApi(verifier);
    try {
      const issue = async (name: string, key: DpopKey) => {
        const c = await app.client({ name, scopes: ['read'] });
        const res = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [c.client_id, c.client_secret], headers: { DPoP: await proof(key, 'POST', `${app.url}/oauth/token`) } });
        return (await res.json()).access_token as string;
      };
      const victimKey = await dpopKey('ES256');
      const victimToken = await issue('api victim', victimKey);
      const attackerToken = await issue('api attacker', await dpopKey('ES256'));
      const read = async (token: string, dpop: string) => (await fetch(`${api.url}/read`, { headers: { Authorization: `DPoP ${token}`, DPoP: dpop } })).status;
      const victimReads = async () => read(victimToken, await proof(victimKey, 'GET', `${api.url}/read`, { claims: { ath: ath(victimToken) } }));
      expect(await victimReads()).toBe(200);
      // The attacker presents its own genuine bound token with proofs naming other keys.
      await inBatches(1000, async () => read(attackerToken, await junk('GET', `${api.url}/read`)));
      expect(await read(attackerToken, await poisoned(victimKey, 'GET', `${api.url}/read`, { ath: ath(attackerToken) }))).toBe(401);
      expect(await victimReads()).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('hostile: the admin keys endpoints (standards.md 30, RFC 6750 §3.1)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('shows and rotates keys only for an admin token (401 without, 403 for an ssf token) and never answers private key members', async () => {
    const rs = await app.client({ name: 'ssf only', scopes: ['ssf'] });
    const ssf = (await (await app.token({ grant_type: 'client_credentials', scope: 'ssf' }, { basic: [rs.client_id, rs.client_secret] })).json()).access_token;
    const before = (await (await app.request('/admin/keys', { token: await app.adminToken() })).json()).items.length;
    expect((await app.request('/admin/keys')).status).toBe(401);
    expect((await app.request('/admin/keys', { token: ssf })).status).toBe(403);
    expect((await app.request('/admin/keys/rotate', { method: 'POST' })).status).toBe(401);
    expect((await app.request('/admin/keys/rotate', { method: 'POST', token: ssf })).status).toBe(403);
    expect((await (await app.request('/admin/keys', { token: await app.adminToken() })).json()).items).toHaveLength(before);

    const rotated = await app.request('/admin/keys/rotate', { method: 'POST', token: await app.adminToken() });
    expect(rotated.status).toBe(201);
    const listed = await (await app.request('/admin/keys', { token: await app.adminToken() })).text();
    const texts = [JSON.stringify(await rotated.json()), listed];
    for (const text of texts) {
      for (const member of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', 'PRIVATE KEY', 'private', 'sealed']) expect(text).not.toContain(member);
    }
  });
});

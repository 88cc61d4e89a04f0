/**
 * The resource-server module (`grantor/resource-server`) seen from the outside: a real Grantor on
 * loopback issues and revokes, a small koa API guards its routes with `requireToken`, and a tiny
 * issuer of our own serves status lists Grantor would never produce.
 */
import { inflateSync } from 'node:zlib';
import { createRemoteJWKSet, decodeJwt, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { createVerifier, ResourceServerError, type Verifier, type VerifierOptions } from '../../src/resource-server/index.js';
import { StatusBits } from '../../src/revocation/status-bits.js';
import { packStatuses, startResourceApi, startTinyIssuer, type ResourceApi, type TinyIssuer, type TinyKey } from '../helpers/resource-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { outcomeCode } from '../helpers/eventually.js';

const API = 'https://api.example.com';
const OTHER_API = 'https://other.example.com';

type Creds = { client_id: string; client_secret: string };
type GrantorClaims = JWTPayload & { grant_id: string; scope: string; status: { status_list: { idx: number; uri: string } } };

const claimsOf = (token: string) => decodeJwt(token) as GrantorClaims;
const realNow = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client_credentials access token from Grantor for `resource`. */
async function issue(app: TestApp, creds: Creds, params: Record<string, string> = {}): Promise<string> {
  const res = await app.token({ grant_type: 'client_credentials', resource: API, ...params }, { basic: [creds.client_id, creds.client_secret] });
  expect(res.status).toBe(200);
  return (await res.json()).access_token;
}


/** The ResourceServerError a verification fails with (fails the test if it passes). */
async function refusal(verifier: Verifier, token: string): Promise<ResourceServerError> {
  const err = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ResourceServerError);
  return err as ResourceServerError;
}

/** A fetch that records every URL asked for (attempts, including failed ones), then fetches. */
function recordingFetch(): { fetch: typeof fetch; urls: string[]; count(suffix: string): number } {
  const urls: string[] = [];
  const wrapped: typeof fetch = (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return fetch(input, init);
  };
  return { fetch: wrapped, urls, count: (suffix) => urls.filter((u) => u.endsWith(suffix)).length };
}

// A route that requires scopes names them in every challenge (RFC 6750 §3; MCP clients read them from the 401).
const invalidTokenChallenge = /^Bearer realm="api", error="invalid_token", error_description="[^"]*"(, scope="[^"]+")?$/;

describe('resource-server module against Grantor', () => {
  let app: TestApp;
  let reader: Creds;
  let verifier: Verifier;
  let api: ResourceApi;
  let skew = 0; // seconds added to the module's clock
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }, { name: 'write' }], access_token_ttl: 120 });
    await app.resource({ identifier: OTHER_API, scopes: [{ name: 'read' }] });
    reader = await app.client({ scopes: ['read'] });
    verifier = createVerifier({ issuer: app.issuer, audience: API, now: () => realNow() + skew });
    api = await startResourceApi(verifier);
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await api.close();
    await app.close();
  });

  it('verifies a valid token and returns its claims', async () => {
    const token = await issue(app, reader, { scope: 'read' });
    const claims = await verifier.verify(token);
    expect(claims).toEqual(decodeJwt(token));
    expect(claims).toMatchObject({
      iss: app.issuer,
      aud: API,
      client_id: reader.client_id,
      scope: 'read',
      grant_id: expect.any(String),
      status: { status_list: { idx: expect.any(Number), uri: `${app.issuer}/statuslists/1` } },
    });
  });

  it('koa: answers 200 with a valid token and hands the claims to the route', async () => {
    const token = await issue(app, reader, { scope: 'read' });
    const res = await api.get('/read', token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, claims: decodeJwt(token) });
    // The auth-scheme is case-insensitive (RFC 9110 §11.1).
    const lower = await api.get('/read', undefined, { Authorization: `bearer ${token}` });
    expect(lower.status).toBe(200);
  });

  it('koa: answers 401 with a bare challenge when no token is sent', async () => {
    const res = await api.get('/read');
    expect(res.status).toBe(401);
    // No error code (RFC 6750 §3.1); the scope the route needs (§3).
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api", scope="read"');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('koa: never takes the token from the query string', async () => {
    const token = await issue(app, reader, { scope: 'read' });
    const res = await api.get(`/read?access_token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api", scope="read"');
  });

  it('answers invalid_token (401) for garbage and malformed credentials', async () => {
    const valid = await issue(app, reader, { scope: 'read' });
    const [h, p, s] = valid.split('.');
    const tamperedSignature = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const tamperedPayload = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(valid), scope: 'read write' })).toString('base64url')}.${s}`;
    for (const token of ['garbage', 'a.b.c', tamperedSignature, tamperedPayload]) {
      expect({ token, code: await outcomeCode(verifier, token) }).toEqual({ token, code: 'invalid_token' });
      const res = await api.get('/read', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
      expect((await res.json()).error).toBe('invalid_token');
    }
    for (const header of ['Bearer two words', 'Bearer ', `Bearer ${valid} trailing`]) {
      const res = await api.get('/read', undefined, { Authorization: header });
      expect({ header, status: res.status }).toEqual({ header, status: 401 });
      expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
    }
  });

  it('answers invalid_token for an expired token', async () => {
    const token = await issue(app, reader, { scope: 'read' });
    const { exp } = claimsOf(token);
    skew = exp! - realNow() + 5 + 1; // past exp and the 5 s default leeway
    try {
      const err = await refusal(verifier, token);
      expect(err.code).toBe('invalid_token');
      expect(err.status).toBe(401);
      expect(err.message).toMatch(/exp/);
      const res = await api.get('/read', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
    } finally {
      skew = 0;
    }
    expect(await outcomeCode(verifier, token)).toBe('ok');
  });

  it('answers invalid_token for a token of another audience', async () => {
    const other = await issue(app, reader, { scope: 'read', resource: OTHER_API });
    expect(claimsOf(other).aud).toBe(OTHER_API);
    const err = await refusal(verifier, other);
    expect(err.code).toBe('invalid_token');
    expect(err.message).toMatch(/aud/);
    const res = await api.get('/read', other);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
  });

  it('answers invalid_token for a token of another issuer (same keys, other issuer identifier)', async () => {
    const elsewhere = createVerifier({ issuer: `${app.issuer}/tenant`, jwksUri: `${app.issuer}/.well-known/jwks.json`, audience: API });
    const elsewhereApi = await startResourceApi(elsewhere);
    cleanups.push(() => elsewhereApi.close());
    const token = await issue(app, reader, { scope: 'read' });
    const err = await refusal(elsewhere, token);
    expect(err.code).toBe('invalid_token');
    expect(err.message).toMatch(/iss/);
    const res = await elsewhereApi.get('/read', token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
  });

  it('answers invalid_token for a token of type JWT instead of at+jwt (RFC 9068 §4), signed by Grantor’s own key', async () => {
    const token = await issue(app, reader, { scope: 'read' });
    const key = app.deps.keyRing.signingKey();
    const resign = (typ: string) => new SignJWT(decodeJwt(token)).setProtectedHeader({ alg: 'RS256', typ, kid: key.kid }).sign(key.privateKey);
    expect(await outcomeCode(verifier, await resign('at+jwt'))).toBe('ok'); // the control: only typ differs
    const plain = await resign('JWT');
    const err = await refusal(verifier, plain);
    expect(err.code).toBe('invalid_token');
    expect(err.message).toMatch(/typ/);
    const res = await api.get('/read', plain);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
  });

  it('koa: answers 403 insufficient_scope naming the scopes the route needs', async () => {
    const token = await issue(app, reader, { scope: 'read' });
    for (const [path, scope] of [['/write', 'write'], ['/read-write', 'read write']]) {
      const res = await api.get(path, token);
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer realm="api", error="insufficient_scope", error_description="[^"]*", scope="${scope}"$`));
      expect((await res.json()).error).toBe('insufficient_scope');
    }
  });
});

describe('revocation reaches the module through the status list (STATUS_LIST_TTL=1)', () => {
  const TTL = 1;
  let app: TestApp;
  let api: ResourceApi;
  let verifier: Verifier;

  beforeAll(async () => {
    app = await startTestApp({ env: { STATUS_LIST_TTL: String(TTL) } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    verifier = createVerifier({ issuer: app.issuer, audience: API });
    api = await startResourceApi(verifier);
  });
  afterAll(async () => {
    await api.close();
    await app.close();
  });

  it('refuses a revoked grant’s token within ttl + 1 s while another grant’s token still passes', async () => {
    const doomed = await issue(app, await app.client({ scopes: ['read'] }));
    const kept = await issue(app, await app.client({ scopes: ['read'] }));
    expect(claimsOf(doomed).grant_id).not.toBe(claimsOf(kept).grant_id);
    expect(await outcomeCode(verifier, doomed)).toBe('ok');
    expect(await outcomeCode(verifier, kept)).toBe('ok');
    expect((await api.get('/me', doomed)).status).toBe(200);

    const revoked = await app.request(`/admin/grants/${claimsOf(doomed).grant_id}`, { method: 'DELETE', token: await app.adminToken() });
    expect(revoked.status).toBe(200);
    expect((await revoked.json()).status).toBe('revoked');
    const start = performance.now();

    // Poll every 100 ms, bounded well past the promise.
    let result = 'ok';
    while (performance.now() - start < (TTL + 4) * 1000) {
      result = await outcomeCode(verifier, doomed);
      if (result !== 'ok') break;
      await sleep(100);
    }
    const delay = (performance.now() - start) / 1000;
    expect(result).toBe('invalid_token');
    expect(delay).toBeLessThanOrEqual(TTL + 1.5);

    expect((await refusal(verifier, doomed)).message).toMatch(/revoked/);
    const res = await api.get('/me', doomed);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
    expect(await outcomeCode(verifier, kept)).toBe('ok');
    expect((await api.get('/me', kept)).status).toBe(200);
  });

  it('refuses a revoked grant’s token on the very first request after a quiet spell longer than the ttl', async () => {
    // A resource server whose clock we move: it checks a token, then nothing happens for a while.
    let now = Math.floor(Date.now() / 1000);
    const quiet = createVerifier({ issuer: app.issuer, audience: API, now: () => now });
    const token = await issue(app, await app.client({ scopes: ['read'] }));
    expect(await outcomeCode(quiet, token)).toBe('ok');
    await app.request(`/admin/grants/${claimsOf(token).grant_id}`, { method: 'DELETE', token: await app.adminToken() });
    await sleep(1100); // Grantor re-reads its revocation list at most once a second
    now += TTL + 2; // past the cached list's ttl, well within its exp
    expect(await outcomeCode(quiet, token)).toBe('invalid_token');
  });
});

describe('fail closed when the status list cannot be had past its exp', () => {
  let app: TestApp;
  let appClosed = false;
  let clock = realNow();
  let closed: Verifier;
  let open: Verifier;
  let api: ResourceApi;
  const recorder = recordingFetch();
  const listTokens: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ env: { STATUS_LIST_TTL: '1', STATUS_LIST_LIFETIME: '60' } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }], access_token_ttl: 3600 });
    // Keep a copy of every status list token the module receives, to learn its exp.
    const keeping: typeof fetch = async (input, init) => {
      const res = await recorder.fetch(input, init);
      if (String(input).endsWith('/statuslists/1') && res.status === 200) listTokens.push(await res.clone().text());
      return res;
    };
    const base: VerifierOptions = { issuer: app.issuer, audience: API, now: () => clock, fetch: keeping };
    closed = createVerifier(base);
    open = createVerifier({ ...base, statusList: { failOpen: true } });
    api = await startResourceApi(closed);
  });
  afterAll(async () => {
    await api.close();
    if (!appClosed) await app.close();
  });

  it('answers from cache while stale, refuses with status_unavailable (503) past exp, passes with failOpen', async () => {
    const token = await issue(app, await app.client({ scopes: ['read'] }));
    const fetchedAt = clock;
    expect(await outcomeCode(closed, token)).toBe('ok');
    expect(await outcomeCode(open, token)).toBe('ok');
    expect((await api.get('/me', token)).status).toBe(200);
    expect(listTokens.length).toBeGreaterThanOrEqual(1);
    const list = decodeJwt(listTokens[listTokens.length - 1]) as JWTPayload & { ttl: number };
    expect(list.ttl).toBe(1);
    expect(list.exp! - list.iat!).toBe(60);

    await app.close();
    appClosed = true;

    // Stale (past fetch time + ttl) but within exp: the cached list still answers; the background
    // refresh is tried and fails quietly.
    clock = Math.min(fetchedAt + 10, list.exp! - 1);
    const triedBefore = recorder.count('/statuslists/1');
    expect(await outcomeCode(closed, token)).toBe('ok');
    await sleep(100);
    expect(recorder.count('/statuslists/1')).toBeGreaterThan(triedBefore);
    expect(await outcomeCode(closed, token)).toBe('ok');
    expect((await api.get('/me', token)).status).toBe(200);

    // Past the list's exp, with the token itself still valid: fail closed …
    clock = list.exp! + 1;
    expect(clock).toBeLessThan(claimsOf(token).exp!);
    const err = await refusal(closed, token);
    expect(err.code).toBe('status_unavailable');
    expect(err.status).toBe(503);
    const res = await api.get('/me', token);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    // An outage is not an authentication failure: no challenge, only Retry-After.
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });

    // … unless told to fail open.
    expect(await outcomeCode(open, token)).toBe('ok');
  });

  it('refuses with status_unavailable, not invalid_token, when the issuer’s keys cannot be fetched at all', async () => {
    // A verifier that has never seen the JWKS, with Grantor gone: an outage, not a bad token.
    const token = await new SignJWT({ client_id: 'c', scope: 'read' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k' })
      .setIssuer(app.issuer).setAudience(API).setSubject('c').setJti('j').setIssuedAt().setExpirationTime('5m')
      .sign((await generateKeyPair('RS256')).privateKey);
    const fresh = createVerifier({ issuer: app.issuer, audience: API });
    const err = await refusal(fresh, token);
    expect(err.code).toBe('status_unavailable');
  });
});

describe('status lists from a tiny issuer of our own', () => {
  let tiny: TinyIssuer;
  let key: TinyKey;
  const verifierFor = (extra: Partial<VerifierOptions> = {}) => createVerifier({ issuer: tiny.url, audience: API, ...extra });
  const tokenFor = (uri: string, idx: number, key?: TinyKey) =>
    tiny.accessToken({ aud: API, scope: 'read', status: { status_list: { idx, uri } } }, { key });

  beforeAll(async () => {
    tiny = await startTinyIssuer();
    key = await tiny.addKey();
  });
  afterAll(() => tiny.close());

  it('refuses an index beyond the list with invalid_token, never VALID', async () => {
    const uri = await tiny.serveStatusList('/statuslists/small', { bits: 1, bytes: new Uint8Array(2) }); // 16 entries, all VALID
    const verifier = verifierFor();
    expect(await outcomeCode(verifier, await tokenFor(uri, 0))).toBe('ok');
    expect(await outcomeCode(verifier, await tokenFor(uri, 15))).toBe('ok');
    for (const idx of [16, 17, 1000, 2 ** 31, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
      const err = await refusal(verifier, await tokenFor(uri, idx));
      expect({ idx, code: err.code }).toEqual({ idx, code: 'invalid_token' });
      expect(err.message).toMatch(/out of range/);
    }
    const api = await startResourceApi(verifier);
    try {
      const res = await api.get('/me', await tokenFor(uri, 16));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(invalidTokenChallenge);
    } finally {
      await api.close();
    }
  });

  it('refuses a token whose status claim is missing or malformed, unless status checks are off', async () => {
    const noStatus = await tiny.accessToken({ aud: API });
    expect(await outcomeCode(verifierFor(), noStatus)).toBe('invalid_token');
    expect(await outcomeCode(verifierFor({ statusList: false }), noStatus)).toBe('ok');
    const uri = `${tiny.url}/statuslists/small`;
    for (const idx of [-1, 1.5, '3']) {
      const token = await tiny.accessToken({ aud: API, status: { status_list: { idx, uri } } });
      expect({ idx, code: await outcomeCode(verifierFor(), token) }).toEqual({ idx, code: 'invalid_token' });
    }
  });

  it.each([
    ['typ JWT', { typ: 'JWT' }],
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['sub of another list', { sub: 'OTHER' }],
    ['expired', { iat: realNow() - 7200, exp: realNow() - 3600 }],
    ['bad signature', { badSignature: true }],
  ])('refuses with status_unavailable when the list token has %s', async (name, flaw: { typ?: string; sub?: string; iat?: number; exp?: number; badSignature?: boolean }) => {
    const path = `/statuslists/${name.replace(/\W+/g, '-')}`;
    const forger = await tiny.addKey(false);
    const uri = await tiny.serveStatusList(path, {
      bits: 1,
      bytes: new Uint8Array(16),
      typ: flaw.typ,
      sub: flaw.sub === 'OTHER' ? `${tiny.url}/statuslists/elsewhere` : undefined,
      iat: flaw.iat,
      exp: flaw.exp,
      // Same kid as the published key, signed by another private key.
      key: flaw.badSignature ? { ...forger, kid: key.kid } : undefined,
    });
    const token = await tokenFor(uri, 3);
    const err = await refusal(verifierFor(), token);
    expect(err.code).toBe('status_unavailable');
    expect(err.status).toBe(503);
    // The same list without the flaw is fine (each case is its own list URI, so no cache is shared).
    await tiny.serveStatusList(path, { bits: 1, bytes: new Uint8Array(16) });
    expect(await outcomeCode(verifierFor(), token)).toBe('ok');
  });

  it('refuses with status_unavailable when the list is not there', async () => {
    expect(await outcomeCode(verifierFor(), await tokenFor(`${tiny.url}/statuslists/missing`, 0))).toBe('status_unavailable');
  });

  it('refuses a status list URI outside the issuer with invalid_token and never fetches it', async () => {
    const other = await startTinyIssuer();
    try {
      await other.addKey();
      const otherUri = await other.serveStatusList('/statuslists/1', { bits: 1, bytes: new Uint8Array(16) });
      const port = new URL(tiny.url).port;
      const recorder = recordingFetch();
      const verifier = verifierFor({ fetch: recorder.fetch });
      const uris = [
        otherUri,
        `${tiny.url}.evil.example/statuslists/1`,
        `${tiny.url}@${new URL(other.url).host}/statuslists/1`,
        `http://localhost:${port}/statuslists/1`,
        `https://127.0.0.1:${port}/statuslists/1`,
      ];
      for (const uri of uris) {
        expect({ uri, code: await outcomeCode(verifier, await tokenFor(uri, 0)) }).toEqual({ uri, code: 'invalid_token' });
      }
      expect(other.requests).toEqual([]);
      expect(recorder.urls.filter((u) => !u.endsWith('/.well-known/jwks.json'))).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('reads 2-bit lists: VALID passes; INVALID, SUSPENDED and 0x3 are refused', async () => {
    const statuses = [0, 1, 2, 3, 0, 2, 0, 0, 1];
    const uri = await tiny.serveStatusList('/statuslists/two-bits', { bits: 2, bytes: packStatuses(statuses, 2) });
    const verifier = verifierFor();
    for (const [idx, status] of statuses.entries()) {
      const expected = status === 0 ? 'ok' : 'invalid_token';
      expect({ idx, status, got: await outcomeCode(verifier, await tokenFor(uri, idx)) }).toEqual({ idx, status, got: expected });
    }
    const err = await refusal(verifier, await tokenFor(uri, 2));
    expect(err.message).toMatch(/revoked/);
  });

  it('reads 8-bit lists too', async () => {
    const uri = await tiny.serveStatusList('/statuslists/eight-bits', { bits: 8, bytes: Uint8Array.from([0, 2, 0, 0x80]) });
    const verifier = verifierFor();
    const got: string[] = [];
    for (const idx of [0, 1, 2, 3, 4]) got.push(await outcomeCode(verifier, await tokenFor(uri, idx)));
    expect(got).toEqual(['ok', 'invalid_token', 'ok', 'invalid_token', 'invalid_token']); // idx 4: out of range
  });

  it('verifies a token signed by a key published after the JWKS was cached (refetch on unknown kid, jwksCooldown: 0)', async () => {
    const uri = await tiny.serveStatusList('/statuslists/kid', { bits: 1, bytes: new Uint8Array(2) });
    const recorder = recordingFetch();
    const eager = verifierFor({ jwksCooldown: 0, fetch: recorder.fetch });
    const patient = verifierFor(); // the default 30 s cooldown
    expect(await outcomeCode(eager, await tokenFor(uri, 1))).toBe('ok');
    expect(await outcomeCode(patient, await tokenFor(uri, 1))).toBe('ok');
    expect(recorder.count('/.well-known/jwks.json')).toBe(1);

    const rotated = await tiny.addKey(false);
    const token = await tokenFor(uri, 1, rotated);
    expect(await outcomeCode(eager, token)).toBe('invalid_token'); // not published yet
    tiny.publish(rotated);
    expect(await outcomeCode(eager, token)).toBe('ok');
    expect(recorder.count('/.well-known/jwks.json')).toBe(3);
    // Within the default cooldown the JWKS is not refetched, so the new kid is still unknown.
    expect(await outcomeCode(patient, token)).toBe('invalid_token');
  });
});

describe('a resource server using only jose, fetch and node:zlib', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  /** What a resource server without Grantor's module does: RFC 9068 checks, then the status bit. */
  async function standardCheck(token: string): Promise<'valid' | 'revoked'> {
    const jwks = createRemoteJWKSet(new URL(`${app.issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, jwks, { issuer: app.issuer, audience: API, typ: 'at+jwt', algorithms: ['RS256'] });
    const { idx, uri } = (payload as GrantorClaims).status.status_list;
    expect(uri.startsWith(`${app.issuer}/`)).toBe(true);
    const res = await fetch(uri, { headers: { Accept: 'application/statuslist+jwt' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/statuslist\+jwt/);
    const { payload: list } = await jwtVerify(await res.text(), jwks, { typ: 'statuslist+jwt', subject: uri, requiredClaims: ['iat', 'exp'] });
    const { bits, lst } = list.status_list as { bits: number; lst: string };
    expect(bits).toBe(1);
    const bytes = inflateSync(Buffer.from(lst, 'base64url'));
    expect(idx >> 3).toBeLessThan(bytes.length);
    return ((bytes[idx >> 3] >> (idx & 7)) & 1) === 1 ? 'revoked' : 'valid';
  }

  it('refuses a revoked grant’s token and accepts a live one', async () => {
    const doomed = await issue(app, await app.client({ scopes: ['read'] }));
    const kept = await issue(app, await app.client({ scopes: ['read'] }));
    expect(await standardCheck(doomed)).toBe('valid');
    expect(await standardCheck(kept)).toBe('valid');
    const res = await app.request(`/admin/grants/${claimsOf(doomed).grant_id}`, { method: 'DELETE', token: await app.adminToken() });
    expect(res.status).toBe(200);
    expect(await standardCheck(doomed)).toBe('revoked');
    expect(await standardCheck(kept)).toBe('valid');
  });

  it('encodes the draft’s example list: statuses 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1 → bytes B9 A3', () => {
    const statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    const bits = new StatusBits(statuses.length);
    statuses.forEach((s, i) => s && bits.set(i));
    expect(bits.size).toBe(16);
    const encoded = bits.encode();
    expect([...inflateSync(Buffer.from(encoded, 'base64url'))]).toEqual([0xb9, 0xa3]);
    expect([...StatusBits.decode(encoded)]).toEqual([0xb9, 0xa3]);
    // The draft's own lst for this list (§4.1 example) decodes to the same bytes.
    expect([...inflateSync(Buffer.from('eNrbuRgAAhcBXQ', 'base64url'))]).toEqual([0xb9, 0xa3]);
    statuses.forEach((s, i) => expect(bits.get(i)).toBe(s));
  });
});

describe('cost: network fetches for many verifications within ttl (counted, not timed)', () => {
  let app: TestApp;
  let tokens: string[];

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    tokens = [];
    for (let i = 0; i < 5; i++) tokens.push(await issue(app, await app.client({ scopes: ['read'] })));
  });
  afterAll(() => app.close());

  it('makes 1 JWKS fetch and 1 status list fetch for 200 sequential verifications', async () => {
    const recorder = recordingFetch();
    const t0 = realNow();
    const verifier = createVerifier({ issuer: app.issuer, audience: API, fetch: recorder.fetch, now: () => t0 });
    for (let i = 0; i < 200; i++) await verifier.verify(tokens[i % tokens.length]);
    expect(recorder.count('/.well-known/jwks.json')).toBe(1);
    expect(recorder.count('/statuslists/1')).toBe(1);
    expect(recorder.urls).toHaveLength(2);
  });

  it('makes 1 JWKS fetch and 1 status list fetch for 200 concurrent verifications', async () => {
    const recorder = recordingFetch();
    const t0 = realNow();
    const verifier = createVerifier({ issuer: app.issuer, audience: API, fetch: recorder.fetch, now: () => t0 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => outcomeCode(verifier, tokens[i % tokens.length])));
    expect(results).toEqual(Array(200).fill('ok'));
    expect(recorder.count('/.well-known/jwks.json')).toBe(1);
    expect(recorder.count('/statuslists/1')).toBe(1);
    expect(recorder.urls).toHaveLength(2);
  });
});

/**
 * Targeted attacks from a review of the resource-server module, the authorization endpoint,
 * revocation (RFC 7009) and the per-address limits behind proxies. Each test is named after the
 * secure behaviour it expects.
 */
import http from 'node:http';
import { createHmac, createPublicKey } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createVerifier, type VerifierOptions } from '../../src/resource-server/index.js';
import { Person, pkce } from '../helpers/browserless.js';
import { authorizeUrl, delegatedFixture, delegatedTokens, introspect, PASSWORD, REDIRECT, statusBit, type Delegated } from '../helpers/delegated.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTinyIssuer, type TinyIssuer, type TinyKey } from '../helpers/resource-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { outcomeCode } from '../helpers/eventually.js';

const API = 'https://api.example.com';
const FORM = 'application/x-www-form-urlencoded';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const realNow = () => Math.floor(Date.now() / 1000);


/** A fetch that counts the URLs it is asked for, then fetches (or answers `fake` for matching URLs). */
function countingFetch(fake?: (url: string) => Response | undefined) {
  const urls: string[] = [];
  const f: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    urls.push(url);
    const canned = fake?.(url);
    return canned ?? fetch(input, init);
  };
  return { fetch: f, urls, count: (suffix: string) => urls.filter((u) => u.endsWith(suffix)).length };
}

describe('hostile: JWT header tricks against the resource-server module (RFC 9068 §4, RFC 8725 §3.1)', () => {
  let tiny: TinyIssuer;
  let key: TinyKey;
  let listUri: string;
  let trap: http.Server;
  let trapUrl: string;
  let trapHits = 0;
  let foreign: { privateKey: CryptoKey; jwk: JWK };
  const verifierFor = (extra: Partial<VerifierOptions> = {}) => createVerifier({ issuer: tiny.url, audience: API, ...extra });
  const claims = (extra: JWTPayload = {}) => ({
    iss: tiny.url,
    aud: API,
    sub: 'c',
    client_id: 'c',
    jti: `j-${Math.random()}`,
    iat: realNow(),
    exp: realNow() + 300,
    status: { status_list: { idx: 1, uri: listUri } },
    ...extra,
  });
  const sign = (header: Record<string, unknown>, payload: JWTPayload, k: CryptoKey = key.privateKey) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header } as never).sign(k);
  /** RS256 over any header, even one jose would refuse to produce (an unknown `crit`). */
  const signRaw = async (header: Record<string, unknown>, payload: JWTPayload, k: CryptoKey = key.privateKey) => {
    const input = `${b64({ alg: 'RS256', ...header })}.${b64(payload)}`;
    const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', k, new TextEncoder().encode(input));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  };

  beforeAll(async () => {
    tiny = await startTinyIssuer();
    key = await tiny.addKey();
    listUri = await tiny.serveStatusList('/statuslists/1', { bits: 1, bytes: new Uint8Array(4) });
    const pair = await generateKeyPair('RS256', { extractable: true });
    foreign = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), alg: 'RS256', use: 'sig' } };
    trap = http.createServer((_req, res) => {
      trapHits++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...foreign.jwk, kid: key.kid }] }));
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(async () => {
    await tiny.close();
    await new Promise<void>((resolve) => trap.close(() => resolve()));
  });

  it('accepts a control token, then refuses alg none and HS256 keyed with the JWKS public key', async () => {
    const verifier = verifierFor();
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims()))).toBe('ok');
    const header = { typ: 'at+jwt', kid: key.kid };
    for (const alg of ['none', 'None', 'NONE']) {
      expect(await outcomeCode(verifier, `${b64({ ...header, alg })}.${b64(claims())}.`)).toBe('invalid_token');
    }
    const pem = createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    for (const secret of [pem, JSON.stringify(key.publicJwk), key.publicJwk.n!]) {
      const input = `${b64({ ...header, alg: 'HS256' })}.${b64(claims())}`;
      const forged = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      expect(await outcomeCode(verifier, forged)).toBe('invalid_token');
    }
  });

  it('ignores embedded jwk, jku and x5u headers and never fetches a key named by the token', async () => {
    const verifier = verifierFor();
    const forged = [
      { typ: 'at+jwt', jwk: foreign.jwk },
      { typ: 'at+jwt', jwk: { ...foreign.jwk, kid: key.kid }, kid: key.kid },
      { typ: 'at+jwt', jku: trapUrl, kid: key.kid },
      { typ: 'at+jwt', x5u: trapUrl, kid: key.kid },
    ];
    for (const h of forged) expect(await outcomeCode(verifier, await sign(h, claims(), foreign.privateKey))).toBe('invalid_token');
    expect(trapHits).toBe(0);
  });

  it('refuses a crit header it does not understand, even on a token signed with the real key (RFC 7515 §4.1.11)', async () => {
    const verifier = verifierFor();
    expect(await outcomeCode(verifier, await signRaw({ typ: 'at+jwt', kid: key.kid }, claims()))).toBe('ok');
    expect(await outcomeCode(verifier, await signRaw({ typ: 'at+jwt', kid: key.kid, crit: ['urn:x:hostile'], 'urn:x:hostile': true }, claims()))).toBe('invalid_token');
    expect(await outcomeCode(verifier, await signRaw({ typ: 'at+jwt', kid: key.kid, crit: ['exp'], exp: 1 }, claims()))).toBe('invalid_token');
    expect(await outcomeCode(verifier, await signRaw({ typ: 'at+jwt', kid: key.kid, crit: [] }, claims()))).toBe('invalid_token');
  });

  it('accepts aud arrays containing its identifier and typ application/at+jwt; refuses iss spelled otherwise (RFC 9068 §4)', async () => {
    const verifier = verifierFor();
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims({ aud: ['https://other.example.com', API] })))).toBe('ok');
    expect(await outcomeCode(verifier, await sign({ typ: 'application/at+jwt', kid: key.kid }, claims()))).toBe('ok');
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims({ aud: ['https://other.example.com', `${API}/`] })))).toBe('invalid_token');
    for (const iss of [`${tiny.url}/`, tiny.url.toUpperCase(), ` ${tiny.url}`, [tiny.url]]) {
      expect({ iss, got: await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims({ iss: iss as string }))) }).toEqual({ iss, got: 'invalid_token' });
    }
    for (const typ of ['JWT', 'jwt', 'at+JWT+x', 'statuslist+jwt', 'secevent+jwt', undefined]) {
      expect({ typ, got: await outcomeCode(verifier, await sign({ typ, kid: key.kid }, claims())) }).toEqual({ typ, got: 'invalid_token' });
    }
  });

  it('refetches the JWKS at most once per cooldown for a flood of tokens with unknown kids', async () => {
    const counter = countingFetch();
    const verifier = verifierFor({ fetch: counter.fetch });
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims()))).toBe('ok');
    for (let i = 0; i < 30; i++) {
      expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: `unknown-${i}` }, claims(), foreign.privateKey))).toBe('invalid_token');
    }
    expect(counter.count('/.well-known/jwks.json')).toBeLessThanOrEqual(2);
  });

  it('reports a JWKS answered 200 with something that is not JSON (a proxy’s error page) as an outage, not as a bad token', async () => {
    const counter = countingFetch((url) => (url.endsWith('/.well-known/jwks.json') ? new Response('<html>502 Bad Gateway</html>', { status: 200, headers: { 'Content-Type': 'text/html' } }) : undefined));
    const verifier = verifierFor({ fetch: counter.fetch });
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims()))).toBe('status_unavailable');
  });

  it('refetches the JWKS at most once per cooldown for unknown kids also while the issuer’s keys answer an error (README: "refetching on an unknown kid, at most every 30 s")', async () => {
    // The status list is fetched at most once a second after a failure ("no storm during an outage");
    // the keys must not be fetched once per incoming request either: each forged token would be one
    // request to the struggling issuer, from every API instance.
    let failing = false;
    const counter = countingFetch((url) => (failing && url.endsWith('/.well-known/jwks.json') ? new Response('busy', { status: 503 }) : undefined));
    const verifier = verifierFor({ fetch: counter.fetch, jwksCooldown: 200 });
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims()))).toBe('ok');
    expect(counter.count('/.well-known/jwks.json')).toBe(1);
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the cooldown
    for (let i = 0; i < 30; i++) await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: `unknown-${i}` }, claims(), foreign.privateKey));
    // 30 forged tokens within well under one cooldown: one refetch (the first), not 30.
    expect(counter.count('/.well-known/jwks.json')).toBeLessThanOrEqual(2);
    // The genuine token still passes from the cached keys meanwhile.
    expect(await outcomeCode(verifier, await sign({ typ: 'at+jwt', kid: key.kid }, claims()))).toBe('ok');
  });
});

describe('hostile: per-address limits and many addresses of one client (README "Limits that cannot be dodged")', () => {
  let app: TestApp | undefined;
  afterEach(() => app?.close());

  async function tokenStatus(target: TestApp, headers: Record<string, string>): Promise<number> {
    const res = await rawRequest(target.url, '/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': FORM, ...headers },
      body: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
    });
    return res.status;
  }

  it('without TRUST_PROXY, ignores X-Forwarded-For and Forwarded: every spoofed address counts against the peer', async () => {
    app = await startTestApp({ env: { RATE_LIMIT_ADDRESS: '3' } });
    const statuses = [
      await tokenStatus(app, { 'X-Forwarded-For': '198.51.100.1' }),
      await tokenStatus(app, { Forwarded: 'for=198.51.100.2' }),
      await tokenStatus(app, { 'X-Forwarded-For': '198.51.100.3', 'X-Real-IP': '198.51.100.3' }),
      await tokenStatus(app, { Forwarded: 'for="[2001:db8::1]"', 'X-Forwarded-For': '2001:db8::1' }),
    ];
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('counts the addresses of one IPv6 /64 as one client (a client has 2^64 of them)', async () => {
    app = await startTestApp({ env: { TRUST_PROXY: 'true', RATE_LIMIT_ADDRESS: '3' } });
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) statuses.push(await tokenStatus(app, { 'X-Forwarded-For': `2001:db8:1:2::${i.toString(16)}` }));
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
  });
});

describe('hostile: authorization requests (RFC 6749 §4.1, RFC 9101, RFC 9207)', () => {
  let app: TestApp;
  let fx: Delegated;
  let trap: http.Server;
  let trapUrl: string;
  let trapHits = 0;
  const S256 = () => ({ code_challenge: pkce().challenge, code_challenge_method: 'S256' });

  beforeAll(async () => {
    app = await startTestApp();
    fx = await delegatedFixture(app);
    trap = http.createServer((_req, res) => {
      trapHits++;
      res.setHeader('Content-Type', 'application/oauth-authz-req+jwt');
      res.end(`${b64({ alg: 'none' })}.${b64({ redirect_uri: 'https://evil.example/cb', scope: 'photos:write' })}.`);
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}/request.jwt`;
  });
  afterAll(async () => {
    await app.close();
    await new Promise<void>((resolve) => trap.close(() => resolve()));
  });

  it('never lets request or request_uri override the query parameters, and never fetches request_uri', async () => {
    const requestObject = `${b64({ alg: 'none' })}.${b64({ client_id: fx.spa.client_id, redirect_uri: 'https://evil.example/cb', scope: 'photos:write', response_type: 'code' })}.`;
    const person = new Person(app.url);
    const back = await person.authorize(authorizeUrl(fx.spa.client_id, { ...S256(), request: requestObject, request_uri: trapUrl }), { username: 'alice', password: PASSWORD });
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('code')).toBeTruthy();
    const row = await app.deps.db('authorization_codes').orderBy('created_at', 'desc').first();
    expect(row.scope).toBe('photos:read');
    expect(trapHits).toBe(0);
  });

  it('answers in the query whatever response_mode asks (no fragment or form_post delivery to be abused)', async () => {
    for (const mode of ['fragment', 'form_post', 'web_message', 'query.jwt']) {
      const person = new Person(app.url);
      const back = await person.authorize(authorizeUrl(fx.spa.client_id, { ...S256(), response_mode: mode }), { username: 'alice', password: PASSWORD });
      expect({ mode, hash: back.hash, code: back.searchParams.has('code'), iss: back.searchParams.getAll('iss') }).toEqual({ mode, hash: '', code: true, iss: [app.issuer] });
    }
  });

  it('refuses a state over 2048 characters with invalid_request, iss, and no state (never a 5xx or a Location too long to follow)', async () => {
    const res = await fetch(new URL(authorizeUrl(fx.spa.client_id, { ...S256(), state: 's'.repeat(6000) }), app.url), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.has('state')).toBe(false);
    expect(back.searchParams.getAll('iss')).toEqual([app.issuer]);
  });

  it('lets a native app’s loopback IP redirect URI name any port (RFC 8252 §7.3), and sends the code to that port', async () => {
    const loop = await app.client({ name: 'Native', type: 'public', redirect_uris: ['http://127.0.0.1:4000/cb', 'http://[::1]/cb'], scopes: ['photos:read'] });
    for (const uri of ['http://127.0.0.1:4001/cb', 'http://127.0.0.1/cb', 'http://127.0.0.1:65535/cb', 'http://[::1]:5555/cb']) {
      const res = await fetch(new URL(authorizeUrl(loop.client_id, { ...S256(), redirect_uri: uri }), app.url), { redirect: 'manual' });
      // Accepted: the login page, as for any registered redirect URI.
      expect({ uri, status: res.status }).toEqual({ uri, status: 200 });
    }
    const p = pkce();
    const back = await new Person(app.url).authorize(authorizeUrl(loop.client_id, { code_challenge: p.challenge, code_challenge_method: 'S256', redirect_uri: 'http://127.0.0.1:51234/cb' }), { username: 'alice', password: PASSWORD });
    expect(`${back.origin}${back.pathname}`).toBe('http://127.0.0.1:51234/cb');
    const redeemed = await app.token({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:51234/cb', client_id: loop.client_id, code_verifier: p.verifier });
    expect(redeemed.status).toBe(200);
  });

  it('matches the rest of a loopback redirect URI exactly: localhost, another address, scheme, path or query, or a port out of range gets an error page, never a redirect', async () => {
    const loop = await app.client({ name: 'Native', type: 'public', redirect_uris: ['http://127.0.0.1:4000/cb'], scopes: ['photos:read'] });
    for (const uri of ['http://localhost:4000/cb', 'http://127.0.0.2:4000/cb', 'https://127.0.0.1:4000/cb', 'http://127.0.0.1:4000/cb2', 'http://127.0.0.1:4000/CB', 'http://127.0.0.1:4000/cb?x=1', 'http://127.0.0.1:0/cb', 'http://127.0.0.1:70000/cb', 'http://[::1]:4000/cb']) {
      const res = await fetch(new URL(authorizeUrl(loop.client_id, { ...S256(), redirect_uri: uri }), app.url), { redirect: 'manual' });
      expect({ uri, status: res.status, location: res.headers.get('location') }).toEqual({ uri, status: 400, location: null });
    }
  });
});

describe('hostile: revocation by another client (RFC 7009 §2.1)', () => {
  let app: TestApp;
  let fx: Delegated;
  const revoke = (params: Record<string, string>, basic?: [string, string]) =>
    fetch(`${app.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': FORM, ...(basic ? { Authorization: `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}` } : {}) },
      body: new URLSearchParams(params),
    });

  beforeAll(async () => {
    app = await startTestApp();
    fx = await delegatedFixture(app);
  });
  afterAll(() => app.close());

  it('lets a public client revoke only its own tokens: another public client naming itself, or no one, changes nothing', async () => {
    const other = await app.client({ name: 'Other public app', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    const victim = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
    for (const token of [victim.refresh_token, victim.access_token]) {
      for (const hint of [undefined, 'refresh_token', 'access_token']) {
        const params = { token, client_id: other.client_id, ...(hint ? { token_type_hint: hint } : {}) };
        expect((await revoke(params)).status).toBe(200);
      }
      // No client at all: refused, not applied.
      expect((await revoke({ token })).status).toBe(401);
      // The victim's client_id with a made-up secret: a public client presents none.
      expect((await revoke({ token }, [fx.spa.client_id, 'x'])).status).toBe(401);
    }
    expect(await statusBit(app, victim.status_index)).toBe(0);
    expect((await introspect(app, fx.rs, victim.access_token)).active).toBe(true);
    // Control: the owner revokes with its client_id alone (a public client has no secret).
    expect((await revoke({ token: victim.refresh_token, client_id: fx.spa.client_id })).status).toBe(200);
    expect(await statusBit(app, victim.status_index)).toBe(1);
  });

  it('does not let anyone revoke a confidential client’s grant by naming its client_id without its secret', async () => {
    const conf = await app.client({ name: 'Server app', scopes: ['photos:read'] });
    const res = await app.token({ grant_type: 'client_credentials', scope: 'photos:read' }, { basic: [conf.client_id, conf.client_secret] });
    const token = (await res.json()).access_token as string;
    const idx = (decodeJwt(token) as { status: { status_list: { idx: number } } }).status.status_list.idx;
    const refused = await revoke({ token, client_id: conf.client_id });
    expect(refused.status).toBe(401);
    expect((await refused.json()).error).toBe('invalid_client');
    expect((await revoke({ token, client_id: conf.client_id, client_secret: '' })).status).toBe(401);
    expect(await statusBit(app, idx)).toBe(0);
  });
});

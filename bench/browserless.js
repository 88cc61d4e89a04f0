// @ts-check
/**
 * The authorization code flow without a browser, to seed refresh tokens for the refresh-grant
 * bench: a cookie jar and the hidden form fields of Grantor's login and consent pages (as in
 * test/helpers/browserless.ts), then, once signed in and consented, one GET /oauth/authorize with
 * PKCE per code (consent is remembered: it answers 302 straight to the redirect URI) and one
 * POST /oauth/token per code.
 */
import { createHash, randomBytes } from 'node:crypto';

export class CookieJar {
  /** @type {Map<string, string>} */
  cookies = new Map();
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  /** @param {Response} res */
  take(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

const decode = (/** @type {string} */ s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The named inputs of a page's form (hidden csrf, return_to, the authorization parameters…). */
/**
 * @param {string} page
 * @returns {Record<string, string>}
 */
function formFields(page) {
  /** @type {Record<string, string>} */
  const fields = {};
  for (const m of page.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[decode(name)] = decode(value);
  }
  return fields;
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A person with a session on Grantor's pages, driving the code flow for one public client. */
export class Person {
  jar = new CookieJar();

  /** @param {{ baseUrl: string, clientId: string, redirectUri: string, scope: string, resource?: string }} app */
  constructor({ baseUrl, clientId, redirectUri, scope, resource }) {
    this.baseUrl = baseUrl;
    this.clientId = clientId;
    this.redirectUri = redirectUri;
    this.scope = scope;
    this.resource = resource;
  }

  /**
   * @param {string} pathOrUrl
   * @param {RequestInit & { headers?: Record<string, string> }} [init]
   */
  async #send(pathOrUrl, init = {}) {
    const res = await fetch(new URL(pathOrUrl, this.baseUrl), { ...init, headers: { ...init.headers, Cookie: this.jar.header() }, redirect: 'manual' });
    this.jar.take(res);
    return res;
  }

  /** @param {string} pathOrUrl */
  get(pathOrUrl) {
    return this.#send(pathOrUrl);
  }

  /** @param {string} path @param {Record<string, string>} fields */
  post(path, fields) {
    return this.#send(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  }

  /** @param {string} challenge */
  authorizeUrl(challenge) {
    const q = new URLSearchParams({ response_type: 'code', client_id: this.clientId, redirect_uri: this.redirectUri, scope: this.scope, state: randomBytes(8).toString('base64url'), code_challenge: challenge, code_challenge_method: 'S256' });
    if (this.resource) q.set('resource', this.resource);
    return `/oauth/authorize?${q}`;
  }

  /**
   * The code of a redirect to the app, or a thrown error saying what came instead.
   * @param {Response} res
   * @param {string} step
   */
  codeOf(res, step, page = '') {
    const location = res.headers.get('location');
    if ((res.status !== 302 && res.status !== 303) || !location) throw new Error(`${step}: expected a redirect to the app, got HTTP ${res.status} ${page.slice(0, 300)}`);
    const back = new URL(location);
    const code = back.searchParams.get('code');
    if (!code || !location.startsWith(this.redirectUri)) throw new Error(`${step}: redirect without a code: ${location}`);
    return code;
  }

  /** First authorization: login page → POST /login → consent page → allow. Returns one code (and its verifier). */
  /** @param {{ username: string, password: string }} credentials */
  async signInAndConsent({ username, password }) {
    const p = pkce();
    let res = await this.get(this.authorizeUrl(p.challenge));
    let page = await res.text();
    if (!page.includes('action="/login"')) throw new Error(`GET /oauth/authorize without a session did not show the login form (HTTP ${res.status})`);
    res = await this.post('/login', { ...formFields(page), username, password });
    if (res.status !== 303) throw new Error(`POST /login answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    await res.arrayBuffer();
    res = await this.get(res.headers.get('location') ?? '');
    page = await res.text();
    if (!page.includes('name="decision"')) throw new Error(`after login, no consent page (HTTP ${res.status}): ${page.slice(0, 300)}`);
    return { code: await this.allow(page), verifier: p.verifier };
  }

  /**
   * Presses Allow on a consent page; the code of the redirect back to the app.
   * @param {string} page
   */
  async allow(page) {
    const fields = formFields(page);
    delete fields.decision;
    const res = await this.post('/oauth/authorize', { ...fields, decision: 'allow' });
    return this.codeOf(res, 'consent', await res.text());
  }

  /**
   * Signed in: GET /oauth/authorize, then Allow on the consent page, which a public client is
   * shown every time (it cannot prove it is the app the person approved; RFC 8252 §8.6).
   */
  async code() {
    const p = pkce();
    const res = await this.get(this.authorizeUrl(p.challenge));
    const page = await res.text();
    if (res.status === 200 && page.includes('name="decision"')) return { code: await this.allow(page), verifier: p.verifier };
    return { code: this.codeOf(res, 'GET /oauth/authorize', page), verifier: p.verifier };
  }

  /**
   * RFC 6749 §4.1.3 for a public client: the code (and its PKCE verifier) for tokens.
   * @param {{ code: string, verifier: string }} grant
   * @returns {Promise<{ access_token: string, refresh_token: string } & Record<string, unknown>>}
   */
  async redeem({ code, verifier }) {
    const res = await fetch(new URL('/oauth/token', this.baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.redirectUri, client_id: this.clientId, code_verifier: verifier }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`code redemption answered ${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text);
    if (!body.refresh_token || !body.access_token) throw new Error(`code redemption gave no refresh token: ${text.slice(0, 300)}`);
    return body;
  }
}

/**
 * `count` refresh tokens, each from its own authorization code (so each starts its own rotation
 * chain), made `concurrency` at a time over one session. Returns the tokens, one sample token
 * answer, and how long it took.
 * @param {{ person: Person, username: string, password: string, count: number, concurrency?: number }} o
 */
export async function seedRefreshTokens({ person, username, password, count, concurrency = 8 }) {
  const t0 = performance.now();
  const first = await person.redeem(await person.signInAndConsent({ username, password }));
  const tokens = [first.refresh_token];
  let next = 1;
  const lane = async () => {
    while (next < count) {
      next++;
      tokens.push((await person.redeem(await person.code())).refresh_token);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { tokens, sample: first, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Builders for tests of delegated access (authorization code + refresh tokens): one API, one
 * browser app, one person, and a resource server that may introspect every token; plus the few
 * steps every such test repeats (sign in, get a code, redeem it, introspect, read a status bit).
 */
import { inflateSync } from 'node:zlib';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { createUser } from '../../src/registry/users.js';
import { formFields, Person, pkce } from './browserless.js';
import type { JsonResponse, TestApp } from './test-app.js';

export const API = 'https://photos.example.com';
export const REDIRECT = 'https://app.example.com/callback';
export const APP_ORIGIN = 'https://app.example.com';
export const PASSWORD = 'correct horse battery';

export interface Creds {
  client_id: string;
  client_secret: string;
}

export interface Delegated {
  /** A public browser app (authorization_code + refresh_token) with one redirect URI. */
  spa: Creds;
  /** A confidential client registered with the `introspect` permission: a resource server. */
  rs: Creds;
  alice: { id: string; username: string };
}

/** Registers the Photos API, the app, the resource server and the person alice. */
export async function delegatedFixture(app: TestApp): Promise<Delegated> {
  await app.resource({
    identifier: API,
    name: 'Photos',
    scopes: [
      { name: 'photos:read', description: 'See your photos' },
      { name: 'photos:write', description: 'Upload photos' },
    ],
  });
  const spa = await app.client({ name: 'Photo Printer', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read', 'photos:write'] });
  const rs = await app.client({ name: 'Photos API', scopes: ['introspect'] });
  const alice = await createUser(app.deps, { username: 'alice', password: PASSWORD });
  return { spa, rs, alice };
}

/** `/oauth/authorize?…` with the usual parameters; `undefined` in `extra` drops one. */
export function authorizeUrl(clientId: string, extra: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'photos:read', state: 'xyz', ...extra };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v);
  return `/oauth/authorize?${q}`;
}

/** Signs a person in through the login page; returns the 303 answer. */
export async function signIn(person: Person, username: string, password = PASSWORD): Promise<Response> {
  const page = await (await person.get('/login')).text();
  return person.post('/login', { ...formFields(page), username, password });
}

/** Runs the authorization request to its redirect (signing in and allowing as needed); returns the code and its verifier. */
export async function obtainCode(
  person: Person,
  clientId: string,
  opts: { username?: string; password?: string; extra?: Record<string, string | undefined>; pkce?: boolean } = {},
): Promise<{ code: string; verifier: string | undefined; back: URL }> {
  const usePkce = opts.pkce ?? true;
  const p = pkce();
  const extra = usePkce ? { code_challenge: p.challenge, code_challenge_method: 'S256', ...opts.extra } : { ...opts.extra };
  const back = await person.authorize(authorizeUrl(clientId, extra), { username: opts.username ?? 'alice', password: opts.password ?? PASSWORD });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in ${back}`);
  return { code, verifier: usePkce ? p.verifier : undefined, back };
}

/** A public client redeems a code (RFC 6749 §4.1.3). */
export function redeem(app: TestApp, clientId: string, code: string, verifier: string | undefined, extra: Record<string, string> = {}): Promise<JsonResponse> {
  return app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, ...(verifier ? { code_verifier: verifier } : {}), ...extra });
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  grant_id: string;
  status_index: number;
}

/** The whole flow for a public client: sign in, allow, redeem; returns the tokens. */
export async function delegatedTokens(app: TestApp, person: Person, clientId: string, opts: { username?: string; scope?: string } = {}): Promise<Tokens> {
  const { code, verifier } = await obtainCode(person, clientId, { username: opts.username, extra: opts.scope ? { scope: opts.scope } : {} });
  const res = await redeem(app, clientId, code, verifier);
  if (res.status !== 200) throw new Error(`redeem answered ${res.status}: ${await res.text()}`);
  const body = await res.json();
  const claims = decodeJwt(body.access_token) as { grant_id: string; status: { status_list: { idx: number } } };
  return { ...body, grant_id: claims.grant_id, status_index: claims.status.status_list.idx };
}

/** A public client refreshes (RFC 6749 §6). */
export function refresh(app: TestApp, clientId: string, refreshToken: string, extra: Record<string, string> = {}): Promise<JsonResponse> {
  return app.token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

/** RFC 7662 introspection by `caller`; returns the JSON answer. */
export async function introspect(app: TestApp, caller: Creds, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${app.url}/oauth/introspect`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${caller.client_id}:${caller.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ token }),
  });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
  return res.json();
}

/** Entry `idx` of the published status list (draft-ietf-oauth-status-list, 1 bit per entry). */
export async function statusBit(app: TestApp, idx: number): Promise<number> {
  const token = await (await app.request('/statuslists/1')).text();
  const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: app.deps.keyRing.publicJwks() }), { typ: 'statuslist+jwt' });
  const bytes = inflateSync(Buffer.from((payload.status_list as { lst: string }).lst, 'base64url'));
  return (bytes[idx >> 3] >> (idx & 7)) & 1;
}

/** The stored grant row (snake_case, as in the database). */
export async function grantRow(app: TestApp, id: string): Promise<Record<string, any>> {
  return app.deps.db('grants').where({ id }).first();
}

/** How many rows of `table` match `where`. */
export async function countRows(app: TestApp, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const row = (await app.deps.db(table).where(where).count({ n: '*' }).first()) as { n: number | string };
  return Number(row.n);
}

/** The Set-Cookie lines of an answer, by cookie name. */
export function setCookies(res: Response): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) out.set(line.slice(0, line.indexOf('=')), line);
  return out;
}

/**
 * Refreshes each token three times at once (concurrent duplicates across many grants) and checks
 * that every answer is 200, that the three of a token got the same tokens back, and that each grant
 * holds exactly one successor. Answers the bodies, three per token, in order.
 */
export async function refreshEachThriceAtOnce(app: TestApp, clientId: string, tokens: Array<Pick<Tokens, 'refresh_token' | 'grant_id'>>): Promise<Array<Record<string, any>>> {
  const answers = await Promise.all(tokens.flatMap((t) => [t, t, t]).map((t) => refresh(app, clientId, t.refresh_token)));
  const bodies = await Promise.all(answers.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> })));
  expect(bodies.map((b) => b.status)).toEqual(Array(3 * tokens.length).fill(200));
  for (let i = 0; i < tokens.length; i++) {
    const mine = bodies.slice(3 * i, 3 * i + 3).map((b) => b.body);
    expect(new Set(mine.map((b) => b.refresh_token)).size).toBe(1);
    expect(new Set(mine.map((b) => b.access_token)).size).toBe(1);
    expect(await countRows(app, 'refresh_tokens', { grant_id: tokens[i].grant_id })).toBe(2);
  }
  expect(new Set(bodies.map((b) => b.body.refresh_token)).size).toBe(tokens.length);
  return bodies.map((b) => b.body);
}

/**
 * Helpers for testing the resource-server module from the outside:
 * - startResourceApi: a small koa API on loopback guarded by `requireToken`;
 * - startTinyIssuer: a minimal authorization server on loopback (its own keys, JWKS and status
 *   lists, all signed here with jose) to serve status lists Grantor would never produce.
 */
import http from 'node:http';
import { deflateSync } from 'node:zlib';
import Router from '@koa/router';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import Koa from 'koa';
import { requireToken, type Verifier } from '../../src/resource-server/index.js';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function shut(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface ResourceApi {
  url: string;
  /** GET `path` with an optional bearer token (sent as `Authorization: Bearer …`). */
  get(path: string, token?: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * A koa API using `requireToken(verifier)`: GET /me needs any valid token, GET /read the scope
 * `read`, GET /write the scope `write`, GET /read-write both. Each answers the token's claims.
 */
export async function startResourceApi(verifier: Verifier, opts: { realm?: string } = {}): Promise<ResourceApi> {
  const app = new Koa();
  const router = new Router();
  const answer = (ctx: Koa.Context) => {
    ctx.body = { ok: true, claims: ctx.state.token };
  };
  router.get('/me', requireToken(verifier, { realm: opts.realm }), answer);
  router.get('/read', requireToken(verifier, { realm: opts.realm, scopes: ['read'] }), answer);
  router.get('/write', requireToken(verifier, { realm: opts.realm, scopes: ['write'] }), answer);
  router.get('/read-write', requireToken(verifier, { realm: opts.realm, scopes: ['read', 'write'] }), answer);
  app.use(router.routes());
  const server = http.createServer(app.callback());
  const url = await listen(server);
  return {
    url,
    get(path, token, headers = {}) {
      return fetch(`${url}${path}`, { headers: token ? { Authorization: `Bearer ${token}`, ...headers } : headers });
    },
    close: () => shut(server),
  };
}

export interface TinyKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface StatusListSpec {
  bits: 1 | 2 | 4 | 8;
  /** The raw status bytes (before DEFLATE). */
  bytes: Uint8Array;
  /** Header `typ`; default statuslist+jwt. */
  typ?: string;
  /** `sub`; default the list's own URI. */
  sub?: string;
  iat?: number;
  exp?: number;
  ttl?: number;
  /** Signing key; default the issuer's first key. */
  key?: TinyKey;
}

export interface TinyIssuer {
  url: string;
  jwksUri: string;
  /** Every path requested, in order. */
  requests: string[];
  /** Makes a new RS256 key; `publish` (default true) adds it to the served JWKS. */
  addKey(publish?: boolean): Promise<TinyKey>;
  publish(key: TinyKey): void;
  /** Signs and serves a status list token at `path` (replacing what was there); returns its URI. */
  serveStatusList(path: string, spec: StatusListSpec): Promise<string>;
  /** Signs an RFC 9068 access token (typ at+jwt, RS256) with iss = this issuer. */
  accessToken(claims: JWTPayload, opts?: { key?: TinyKey; typ?: string }): Promise<string>;
  close(): Promise<void>;
}

/** Packs `statuses` into the §4.1 byte array: `bits` per entry, least significant bits first. */
export function packStatuses(statuses: number[], bits: 1 | 2 | 4 | 8): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((statuses.length * bits) / 8));
  statuses.forEach((value, i) => {
    const offset = i * bits;
    bytes[offset >> 3] |= value << (offset & 7);
  });
  return bytes;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function startTinyIssuer(): Promise<TinyIssuer> {
  const jwks: JWK[] = [];
  const lists = new Map<string, string>();
  const requests: string[] = [];
  const keys: TinyKey[] = [];
  let kidCounter = 0;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    if (path === '/.well-known/jwks.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: jwks }));
      return;
    }
    const list = lists.get(path);
    if (list !== undefined) {
      res.writeHead(200, { 'Content-Type': 'application/statuslist+jwt' });
      res.end(list);
      return;
    }
    res.writeHead(404).end();
  });
  const url = await listen(server);

  const issuer: TinyIssuer = {
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    requests,
    async addKey(publish = true) {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const kid = `tiny-${++kidCounter}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      const key = { kid, privateKey, publicJwk };
      keys.push(key);
      if (publish) issuer.publish(key);
      return key;
    },
    publish(key) {
      jwks.push(key.publicJwk);
    },
    async serveStatusList(path, spec) {
      const uri = `${url}${path}`;
      const key = spec.key ?? keys[0];
      const iat = spec.iat ?? nowSeconds();
      const token = await new SignJWT({
        status_list: { bits: spec.bits, lst: deflateSync(spec.bytes).toString('base64url') },
        ttl: spec.ttl ?? 300,
      })
        .setProtectedHeader({ alg: 'RS256', typ: spec.typ ?? 'statuslist+jwt', kid: key.kid })
        .setIssuer(url)
        .setSubject(spec.sub ?? uri)
        .setIssuedAt(iat)
        .setExpirationTime(spec.exp ?? iat + 3600)
        .sign(key.privateKey);
      lists.set(path, token);
      return uri;
    },
    async accessToken(claims, opts = {}) {
      const key = opts.key ?? keys[0];
      const iat = nowSeconds();
      return new SignJWT({ client_id: 'tiny-client', sub: 'tiny-client', jti: `jti-${Math.random()}`, iat, exp: iat + 300, iss: url, ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: opts.typ ?? 'at+jwt', kid: key.kid })
        .sign(key.privateKey);
    },
    close: () => shut(server),
  };
  return issuer;
}

import { ResourceServerError } from './errors.js';
import type { AccessTokenPayload, Verifier } from './verify.js';

/** The little of a koa context the middleware uses (so this module needs no koa import). */
export interface KoaLikeContext {
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: Record<string, unknown>;
  /** HTTP method and path (DPoP `htm` and `htu`). */
  method: string;
  path: string;
  /** Scheme and host as koa reads them from the request (see RequireTokenOptions.origin). */
  protocol: string;
  host: string;
}

export interface RequireTokenOptions {
  /** Scopes the token must all carry. */
  scopes?: string[];
  /** `realm` of the WWW-Authenticate challenge. Default "api". */
  realm?: string;
  /**
   * This API's public origin (`https://api.example.com`), against which DPoP proofs' `htu` is
   * checked with the request path. Default: koa's `ctx.protocol` and `ctx.host`, read from the
   * request (X-Forwarded-Proto and -Host with `app.proxy`); set it when a proxy in front changes either.
   */
  origin?: string;
  /**
   * The URL of this API's protected resource metadata (RFC 9728 §5.1; `metadata.url` from
   * createProtectedResourceMetadata()): every 401 and 403 challenge names it as `resource_metadata`,
   * which is how MCP clients and others find the authorization server.
   */
  resourceMetadata?: string;
}

/**
 * Koa middleware: requires a valid access token in the Authorization header (RFC 6750 §2.1; never
 * the query string) carrying `scopes`, puts its claims in `ctx.state.token` (and the scheme,
 * `Bearer` or `DPoP`, in `ctx.state.tokenScheme`), and answers errors itself: 401 with a bare
 * challenge when no token is sent, 401 `invalid_token`, 403 `insufficient_scope` with the scopes
 * needed, 503 when its revocation status cannot be confirmed. A DPoP-bound token must come as
 * `Authorization: DPoP …` with its proof (RFC 9449 §7.1): refusals of those, and of a bound token
 * sent as Bearer, are answered with a `DPoP` challenge carrying `algs` and `invalid_token` or
 * `invalid_dpop_proof`. Every challenge of a route that requires scopes carries them (`scope`,
 * RFC 6750 §3), and, with `resourceMetadata`, where the API's metadata is (RFC 9728 §5.1).
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience: 'https://api.example.com' });
 * router.get('/photos', requireToken(verifier, { scopes: ['photos:read'], origin: 'https://api.example.com' }), listPhotos);
 * ```
 */
export function requireToken(verifier: Verifier, options: RequireTokenOptions = {}) {
  const realm = options.realm ?? 'api';
  const needed = options.scopes ?? [];
  const algs = `algs="${verifier.dpopAlgorithms.join(' ')}"`;
  // RFC 9728 §5.1 and RFC 6750 §3: where to learn about this API, and what this route needs.
  // A URL or scope that cannot be a quoted-string is refused here, not sent broken on every 401.
  if (options.resourceMetadata !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(options.resourceMetadata)) throw new TypeError('resourceMetadata: not a URL');
  if (needed.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) throw new TypeError('scopes: a scope is printable ASCII without spaces, quotes or backslashes');
  const extra = `${options.resourceMetadata ? `, resource_metadata="${options.resourceMetadata}"` : ''}${needed.length ? `, scope="${needed.join(' ')}"` : ''}`;
  const refuse = (ctx: KoaLikeContext, status: number, challenge: string, body: unknown) => {
    ctx.status = status;
    ctx.set('WWW-Authenticate', challenge);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  };
  return async function requireTokenMiddleware(ctx: KoaLikeContext, next: () => Promise<unknown>): Promise<void> {
    const header = ctx.get('Authorization');
    if (!header) {
      // RFC 9449 §7.1: an API that takes only DPoP says so, with the algorithms it accepts.
      const challenge = verifier.dpopRequired ? `DPoP realm="${realm}"${extra}, ${algs}` : `Bearer realm="${realm}"${extra}`;
      return refuse(ctx, 401, challenge, { error: 'invalid_request', error_description: 'an access token is required' });
    }
    let claims: AccessTokenPayload;
    let scheme: 'Bearer' | 'DPoP';
    try {
      ({ claims, scheme } = await verifier.verifyRequest({
        method: ctx.method,
        url: `${(options.origin ?? `${ctx.protocol}://${ctx.host}`).replace(/\/+$/, '')}${ctx.path}`,
        authorization: header,
        dpop: ctx.get('DPoP') || undefined,
      }));
      const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
      const missing = needed.filter((s) => !granted.includes(s));
      if (missing.length) throw new ResourceServerError('insufficient_scope', `requires scope ${needed.join(' ')}`, { scheme });
    } catch (err) {
      if (!(err instanceof ResourceServerError)) throw err;
      // ASCII only: it goes into WWW-Authenticate (RFC 6750 §3 allows %x20-21 / %x23-5B / %x5D-7E).
      const description =
        err.code === 'insufficient_scope' ? 'the token lacks a required scope' :
        err.code === 'status_unavailable' ? 'the token status cannot be checked now' :
        err.code === 'invalid_dpop_proof' ? 'the DPoP proof is invalid' : 'the access token is invalid, expired or revoked';
      const error = err.code === 'status_unavailable' ? 'temporarily_unavailable' : err.code;
      if (err.code === 'status_unavailable') {
        // Not an authentication failure: no challenge, the client should simply retry later.
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error, error_description: description };
        return;
      }
      let challenge = `${err.scheme} realm="${realm}", error="${err.code}", error_description="${description}"${extra}`;
      if (err.scheme === 'DPoP') challenge += `, ${algs}`;
      return refuse(ctx, err.status, challenge, { error, error_description: description });
    }
    ctx.state.token = claims;
    ctx.state.tokenScheme = scheme;
    await next();
  };
}

/** The little of a koa context the receiver uses. */
export interface KoaReceiverContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
  /** The request headers (node's, lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw request, read when no body parser has read it. */
  req: AsyncIterable<Uint8Array | string>;
  /** A body parser's result, when one ran first (a string for a text type). */
  request?: { body?: unknown; rawBody?: string };
}

/** Largest pushed body read, in bytes (a SET is a few KB). */
const MAX_PUSH_BODY = 64 * 1024;

async function readBody(ctx: KoaReceiverContext): Promise<string | undefined> {
  if (typeof ctx.request?.rawBody === 'string') return ctx.request.rawBody;
  if (typeof ctx.request?.body === 'string') return ctx.request.body;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += bytes.length;
    if (size > MAX_PUSH_BODY) return undefined;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Koa middleware receiving pushed revocation events (RFC 8935) at the path of the verifier's
 * `revocationEvents.pushEndpointUrl`: POST with the stream's Authorization and one SET answers 202
 * and applies it; a refused SET answers 400 `{err, description}` (§2.3), another Authorization 401
 * (retried by the transmitter); other paths pass on.
 * Mount it before any body parser, or with one that leaves application/secevent+jwt alone.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience, revocationEvents: { delivery: 'push', pushEndpointUrl: 'https://api.example.com/ssf/events', credentials } });
 * app.use(revocationReceiver(verifier));
 * ```
 */
export function revocationReceiver(verifier: Pick<Verifier, 'receiveSet' | 'pushEndpointPath'>) {
  const path = verifier.pushEndpointPath;
  return async function receiveRevocationEvent(ctx: KoaReceiverContext, next: () => Promise<unknown>): Promise<void> {
    if (path === undefined || ctx.path !== path) return void (await next());
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'POST');
      ctx.body = '';
      return;
    }
    const body = await readBody(ctx);
    const answer =
      body === undefined
        ? { status: 400, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ err: 'invalid_request', description: 'the body is too large' }) }
        : await verifier.receiveSet(body, ctx.headers);
    ctx.status = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
    ctx.body = answer.body;
  };
}

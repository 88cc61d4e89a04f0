import { ResourceServerError } from './errors.js';
import type { AccessTokenPayload, Verifier } from './verify.js';

/** The little of a koa context the middleware uses (so this module needs no koa import). */
export interface KoaLikeContext {
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: Record<string, unknown>;
}

export interface RequireTokenOptions {
  /** Scopes the token must all carry. */
  scopes?: string[];
  /** `realm` of the WWW-Authenticate challenge. Default "api". */
  realm?: string;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Koa middleware: requires a valid access token in the Authorization header (RFC 6750 §2.1; never
 * the query string) carrying `scopes`, puts its claims in `ctx.state.token`, and answers RFC 6750
 * §3 errors itself: 401 with a bare challenge when no token is sent, 401 `invalid_token`, 403
 * `insufficient_scope` with the scopes needed, 503 when its revocation status cannot be confirmed.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience: 'https://api.example.com' });
 * router.get('/photos', requireToken(verifier, { scopes: ['photos:read'] }), listPhotos);
 * ```
 */
export function requireToken(verifier: Verifier, options: RequireTokenOptions = {}) {
  const realm = options.realm ?? 'api';
  const needed = options.scopes ?? [];
  const refuse = (ctx: KoaLikeContext, status: number, challenge: string, body: unknown) => {
    ctx.status = status;
    ctx.set('WWW-Authenticate', challenge);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  };
  return async function requireTokenMiddleware(ctx: KoaLikeContext, next: () => Promise<unknown>): Promise<void> {
    const header = ctx.get('Authorization');
    if (!header) return refuse(ctx, 401, `Bearer realm="${realm}"`, { error: 'invalid_request', error_description: 'an access token is required' });
    const match = BEARER.exec(header);
    let claims: AccessTokenPayload;
    try {
      if (!match) throw new ResourceServerError('invalid_token', 'malformed Authorization header');
      claims = await verifier.verify(match[1]);
      const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
      const missing = needed.filter((s) => !granted.includes(s));
      if (missing.length) throw new ResourceServerError('insufficient_scope', `requires scope ${needed.join(' ')}`);
    } catch (err) {
      if (!(err instanceof ResourceServerError)) throw err;
      // ASCII only: it goes into WWW-Authenticate (RFC 6750 §3 allows %x20-21 / %x23-5B / %x5D-7E).
      const description = err.code === 'insufficient_scope' ? 'the token lacks a required scope' : err.code === 'status_unavailable' ? 'the token status cannot be checked now' : 'the access token is invalid, expired or revoked';
      const error = err.code === 'status_unavailable' ? 'temporarily_unavailable' : err.code;
      if (err.code === 'status_unavailable') {
        // Not an authentication failure: no challenge, the client should simply retry later.
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error, error_description: description };
        return;
      }
      let challenge = `Bearer realm="${realm}", error="${err.code}", error_description="${description}"`;
      if (err.code === 'insufficient_scope') challenge += `, scope="${needed.join(' ')}"`;
      return refuse(ctx, err.status, challenge, { error, error_description: description });
    }
    ctx.state.token = claims;
    await next();
  };
}

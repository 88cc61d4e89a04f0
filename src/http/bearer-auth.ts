import type { Context, Next } from 'koa';
import { OAuthError } from '../errors.js';
import type { AccessTokenClaims, VerifyResult } from '../tokens/access-token.js';

export interface BearerAuthOptions {
  realm: string;
  /** Scope the token must carry. */
  scope: string;
  /** Audience the token must be for. */
  audience: string;
  /**
   * Decides whether the token is accepted: Grantor's one check, acceptAccessToken
   * (src/oauth/accept-access-token.ts) — signature and claims, and a live grant and client.
   */
  accept(token: string): Promise<VerifyResult>;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive
// (RFC 9110 §11.1, and RFC 5234 §2.3 for the quoted "Bearer").
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * RFC 6750 bearer authentication from the Authorization header only (§2.1; tokens in the query
 * string are not accepted). Missing → 401 with a bare challenge; not accepted (signature, issuer,
 * type, expiry; a revoked, expired or unknown grant; a disabled or deleted client) → 401
 * invalid_token; for another audience or lacking the scope → 403 insufficient_scope. Puts the
 * claims in `ctx.state.token`.
 */
export function bearerAuth(opts: BearerAuthOptions) {
  const challenge = (extra = '') => `Bearer realm="${opts.realm}"${extra}`;
  return async function bearerAuthMiddleware(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('Authorization');
    if (!header) {
      throw new OAuthError('invalid_token', 'an access token is required', { headers: { 'WWW-Authenticate': challenge() } });
    }
    const match = BEARER.exec(header);
    const accepted = match ? await opts.accept(match[1]) : ({ ok: false, reason: 'malformed Authorization header' } as const);
    // RFC 9449 §7.2: a DPoP-bound token is no bearer token; Grantor's own APIs take bearer tokens only.
    const result = accepted.ok && accepted.claims.cnf !== undefined ? ({ ok: false, reason: 'a DPoP-bound token presented as Bearer' } as const) : accepted;
    if (!result.ok) {
      throw new OAuthError('invalid_token', 'the access token is invalid or expired', {
        detail: result.reason,
        headers: { 'WWW-Authenticate': challenge(', error="invalid_token", error_description="the access token is invalid or expired"') },
      });
    }
    // A genuine token of this issuer for another audience, or without the scope, is valid but not
    // enough here: 403 tells the client which scope to ask for (RFC 6750 §3.1).
    const scopes = typeof result.claims.scope === 'string' ? result.claims.scope.split(' ') : [];
    const audiences = ([] as unknown[]).concat(result.claims.aud);
    if (!audiences.includes(opts.audience) || !scopes.includes(opts.scope)) {
      throw new OAuthError('insufficient_scope', `the access token lacks the ${opts.scope} scope`, {
        headers: { 'WWW-Authenticate': challenge(`, error="insufficient_scope", scope="${opts.scope}"`) },
      });
    }
    ctx.state.token = result.claims as AccessTokenClaims;
    await next();
  };
}

import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import type { RateLimits } from '../http/rate-limit.js';
import type { ReadCache } from '../store/read-cache.js';
import { mayIntrospectAny } from '../registry/clients.js';
import type { RefreshTokenRow } from '../store/refresh-tokens.js';
import type { ClientRow } from '../store/tables.js';
import { acceptAccessToken, liveGrant, type VerifiedTokens } from './accept-access-token.js';
import { authenticateClient } from './client-auth.js';
import type { ClientKeys } from './client-keys.js';
import { identifyToken } from './identify-token.js';

export type IntrospectDeps = { db: Db; clock: Clock; keyRing: KeyRing; readCache: Pick<ReadCache, 'client' | 'grantNow'>; verifiedTokens: VerifiedTokens; rateLimits: Pick<RateLimits, 'client'>; clientKeys: ClientKeys; config: Pick<Config, 'issuer' | 'grantIdleTimeout'> };

const INACTIVE = { active: false } as const;
/** Three base64url parts: what a JWS compact serialisation looks like (refresh tokens are one part). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * RFC 7662 introspection. The caller authenticates as at the token endpoint (§2.1; a public
 * client cannot). Who may see what: a client may introspect tokens issued to itself; a client
 * registered with the `introspect` permission (a resource server) may introspect any token.
 * Everything else — expired, revoked, unknown, malformed or another client's token — is
 * `{"active": false}` with no other member (§2.2).
 */
export async function handleIntrospectionRequest(deps: IntrospectDeps, form: URLSearchParams, authorization: string | undefined): Promise<Record<string, unknown>> {
  const { client, method } = await authenticateClient(deps, authorization, form);
  if (method === 'none') throw new OAuthError('invalid_client', 'introspection requires client authentication', { detail: 'public client' });
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required');

  // Active exactly when Grantor itself would accept the token (the admin API asks the same). A JWT
  // is asked there first, so an active access token is verified once; anything it refuses is looked
  // up as before (a refresh token, or an access token that is inactive either way).
  const accepted = JWT_SHAPE.test(token) ? await acceptAccessToken(deps, token) : undefined;
  if (!accepted?.ok) {
    const now = deps.clock.now();
    const found = await identifyToken(deps, token, { issuer: deps.config.issuer, now });
    return found?.kind === 'refresh' ? introspectRefreshToken(deps, client, found.row, now) : INACTIVE;
  }
  const { claims } = accepted;
  if (claims.client_id !== client.clientId && !mayIntrospectAny(client)) return INACTIVE;
  // A token none of whose scopes its client may still have can do nothing: inactive.
  if (claims.scope === '') return INACTIVE;

  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    // RFC 9449 §6.2: a DPoP-bound token says so, with the key it is bound to.
    token_type: claims.cnf ? 'DPoP' : 'Bearer',
    grant_id: claims.grant_id,
    ...(claims.cnf ? { cnf: { jkt: claims.cnf.jkt } } : {}),
    // RFC 8693 §4.1 (and §2.2 of RFC 7662: any claim of the token may be answered): who acts for `sub`.
    ...(claims.act ? { act: claims.act } : {}),
  };
}

/** A refresh token is active while unspent, unexpired, and its grant live; only its own client sees it. */
async function introspectRefreshToken(deps: IntrospectDeps, client: ClientRow, refresh: RefreshTokenRow, now: number): Promise<Record<string, unknown>> {
  if (refresh.clientId !== client.clientId && !mayIntrospectAny(client)) return INACTIVE;
  if (refresh.usedAt !== null || refresh.expiresAt <= now) return INACTIVE;
  const live = await liveGrant(deps, refresh.grantId, refresh.clientId, now);
  if (!live.ok) return INACTIVE;
  const { grant } = live;
  return {
    active: true,
    scope: refresh.scope,
    client_id: refresh.clientId,
    sub: grant.userId ?? grant.clientId,
    aud: grant.resource,
    iss: deps.config.issuer,
    exp: refresh.expiresAt,
    iat: refresh.createdAt,
    token_type: 'refresh_token',
    grant_id: grant.id,
  };
}

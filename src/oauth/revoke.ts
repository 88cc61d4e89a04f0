import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../lib/clock.js';
import { revokeGrant, type RevokeDeps } from '../revocation/revoke-grant.js';
import type { Db } from '../store/db.js';
import type { RateLimits } from '../http/rate-limit.js';
import type { ReadCache } from '../store/read-cache.js';
import { identifyToken } from './identify-token.js';
import { authenticateClient } from './client-auth.js';
import type { ClientKeys } from './client-keys.js';

export type RevokeEndpointDeps = RevokeDeps & { db: Db; clock: Clock; keyRing: KeyRing; readCache: Pick<ReadCache, 'client' | 'invalidate'>; rateLimits: Pick<RateLimits, 'client'>; clientKeys: ClientKeys; config: Pick<Config, 'issuer'> };

/**
 * RFC 7009 token revocation. A client revokes one of its own tokens (refresh or access), which revokes the token's
 * whole grant (§2.1: revoking any token of a grant MAY revoke the others; Grantor always does).
 * Unknown, malformed, foreign or already revoked tokens still answer 200 and change nothing (§2.2);
 * `token_type_hint` is only a hint and unsupported values are ignored.
 */
export async function handleRevocationRequest(deps: RevokeEndpointDeps, form: URLSearchParams, authorization: string | undefined): Promise<void> {
  const token = form.get('token');
  // §2.3.1: client authentication as at the token endpoint (public clients present their client_id).
  const { client } = await authenticateClient(deps, authorization, form);
  if (!token) {
    throw new OAuthError('invalid_request', 'token is required');
  }
  const found = await identifyToken(deps, token, { issuer: deps.config.issuer, now: deps.clock.now() });
  if (!found) return;
  const owner = found.kind === 'refresh' ? { grantId: found.row.grantId, clientId: found.row.clientId } : { grantId: found.claims.grant_id, clientId: found.claims.client_id };
  if (owner.clientId !== client.clientId) return; // §2.1: not this client's token
  await revokeGrant(deps, owner.grantId, { reason: 'token revoked by the client (RFC 7009)', by: `client:${client.clientId}` });
}

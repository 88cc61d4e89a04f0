import { OAuthError } from '../../errors.js';
import type { ClientRow, GrantRow, ResourceRow } from '../../store/tables.js';
import { accessTokenClaims, signAccessToken, type AccessTokenClaims } from '../../tokens/access-token.js';
import type { GrantDeps } from './grant.js';

/**
 * The claims of an access token of a grant, not yet signed: `sub` is the person, or the client
 * itself when none (RFC 9068 §2.2); bound to a DPoP key by `cnf.jkt` when the request carried a
 * proof (RFC 9449 §6.1).
 */
export function grantAccessTokenClaims(
  deps: Pick<GrantDeps, 'config' | 'statusList'>,
  grant: GrantRow,
  resource: Pick<ResourceRow, 'identifier' | 'accessTokenTtl'>,
  scope: string,
  now: number,
  dpopJkt?: string,
): { claims: AccessTokenClaims; ttl: number; tokenType: 'Bearer' | 'DPoP' } {
  const ttl = resource.accessTokenTtl ?? deps.config.accessTokenTtl;
  const claims = accessTokenClaims({
    issuer: deps.config.issuer,
    subject: grant.userId ?? grant.clientId,
    audience: resource.identifier,
    clientId: grant.clientId,
    scope,
    grantId: grant.id,
    statusIndex: grant.statusIndex,
    statusListUri: deps.statusList.uri,
    issuedAt: now,
    ttl,
    dpopJkt,
  });
  return { claims, ttl, tokenType: dpopJkt ? 'DPoP' : 'Bearer' };
}

/** An access token of a grant (see grantAccessTokenClaims), signed with the active key. */
export async function mintGrantAccessToken(
  deps: GrantDeps,
  grant: GrantRow,
  resource: Pick<ResourceRow, 'identifier' | 'accessTokenTtl'>,
  scope: string,
  now: number,
  dpopJkt?: string,
): Promise<{ token: string; claims: AccessTokenClaims; kid: string; ttl: number; tokenType: 'Bearer' | 'DPoP' }> {
  const { claims, ttl, tokenType } = grantAccessTokenClaims(deps, grant, resource, scope, now, dpopJkt);
  return { ...(await signAccessToken(deps.keyRing, claims)), claims, ttl, tokenType };
}

/**
 * RFC 9449 §5.2 (a client registered with `dpop_bound_access_tokens`) and RFC 9728 §2 (an API
 * that accepts only DPoP-bound tokens): without a proof there is nothing to bind, so the request
 * is refused before anything is spent or stored.
 */
export function requireDpopWhenBound(client: Pick<ClientRow, 'dpopBoundAccessTokens'>, resource: Pick<ResourceRow, 'dpopBoundAccessTokens'>, dpopJkt: string | undefined): void {
  if (dpopJkt !== undefined) return;
  if (client.dpopBoundAccessTokens) throw new OAuthError('invalid_dpop_proof', 'this client must use DPoP', { detail: 'client dpop_bound_access_tokens' });
  if (resource.dpopBoundAccessTokens) throw new OAuthError('invalid_dpop_proof', 'this resource accepts only DPoP-bound tokens', { detail: 'resource dpop_bound_access_tokens' });
}

/** Whether a delegated grant can still be used now: not revoked, not past its lifetime or idle timeout. */
export function grantUsable(deps: { config: Pick<GrantDeps['config'], 'grantIdleTimeout'> }, grant: GrantRow | undefined, now: number): grant is GrantRow {
  if (!grant || grant.revokedAt !== null) return false;
  if (grant.expiresAt !== null && grant.expiresAt <= now) return false;
  const lastActive = grant.lastUsedAt ?? grant.createdAt;
  return grant.kind !== 'authorization_code' || lastActive + deps.config.grantIdleTimeout > now;
}

import { OAuthError } from '../../errors.js';
import { randomId } from '../../lib/random.js';
import { revokeGrant } from '../../revocation/revoke-grant.js';
import { redeemCode } from '../../store/authorization-codes.js';
import { hashAuthorizationCode } from '../../tokens/authorization-code.js';
import { newRefreshToken } from '../../tokens/refresh-token.js';
import { allowedNow } from '../allowed-now.js';
import { authenticateClient } from '../client-auth.js';
import { verifierMatches } from '../pkce.js';
import { requireGrantResource } from '../resource-indicator.js';
import { formatScope } from '../scope.js';
import type { GrantDeps, GrantRequest, TokenResponse } from './grant.js';
import { grantUsable, mintGrantAccessToken, requireDpopWhenBound } from './issue-tokens.js';

const invalidGrant = (detail: string) => new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used', { detail });

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5: an app trades a code for tokens. The code is single use,
 * decided by the database; a second redemption revokes the grant and every token issued from it
 * (RFC 6749 §4.1.2, RFC 9700 §4.5).
 */
export async function authorizationCodeGrant(deps: GrantDeps, request: GrantRequest): Promise<TokenResponse> {
  // 1. parse
  const code = request.form.get('code');
  const redirectUri = request.form.get('redirect_uri');
  const verifier = request.form.get('code_verifier');
  if (!code) throw new OAuthError('invalid_request', 'code is required');

  // 2. authenticate: confidential clients with their secret, public clients by client_id
  const { client } = await authenticateClient(deps, request.authorization, request.form);
  if (!client.grantTypes.includes('authorization_code')) throw new OAuthError('unauthorized_client', 'the client may not use the authorization code grant');

  // 3. load and check: one read for the code, its grant and its person, beside the writer
  const now = deps.clock.now();
  const found = code.length <= 512 ? await deps.reads.codeWithGrant(hashAuthorizationCode(code)) : undefined;
  if (!found) throw invalidGrant('unknown code');
  const { code: row, grant } = found;
  if (row.usedAt !== null) {
    await revokeGrant(deps, row.grantId, { reason: 'authorization code replayed', by: 'system' });
    throw invalidGrant('code replayed: grant revoked');
  }
  if (row.clientId !== client.clientId) throw invalidGrant('code of another client');
  if (row.expiresAt <= now) throw invalidGrant('code expired');
  // §4.1.3: redirect_uri must be identical when the authorization request had it.
  if (row.redirectUriSent ? redirectUri !== row.redirectUri : redirectUri !== null && redirectUri !== row.redirectUri) throw invalidGrant('redirect_uri mismatch');
  // RFC 7636 §4.6, and RFC 9700 §4.8.2: no verifier without a challenge (PKCE downgrade).
  if (row.codeChallenge !== null ? verifier === null || !verifierMatches(verifier, row.codeChallenge) : verifier !== null) throw invalidGrant('PKCE verification failed');
  if (!grant || !grantUsable(deps, grant, now)) throw invalidGrant('grant revoked or expired');
  if (!found.userActive) throw invalidGrant('user gone or disabled');
  // Refused before the code is spent: the app may retry with the right resource.
  requireGrantResource(request.form.getAll('resource'), row.resource);
  const resource = await deps.readCache.resource(row.resource);
  if (!resource) throw invalidGrant('resource gone');
  // RFC 9449 §10: a code asked for with dpop_jkt is redeemed only with a proof by that key.
  if (row.dpopJkt !== null && request.dpopJkt !== row.dpopJkt) {
    throw new OAuthError('invalid_dpop_proof', 'the authorization code is bound to another DPoP key', { detail: request.dpopJkt ? 'proof by another key than dpop_jkt' : 'no proof for a code with dpop_jkt' });
  }
  requireDpopWhenBound(client, resource, request.dpopJkt);
  // Issue #10: an admin may have taken a scope from the client or the resource since the person
  // approved it; only what both allow now is issued, and the grant is narrowed to match.
  const issued = allowedNow(row.scope.split(' '), client, resource);
  if (issued.length === 0) throw invalidGrant('every scope of the code was taken from the client or the resource');
  const scope = formatScope(issued);
  const grantScope = formatScope(allowedNow(grant.scope.split(' '), client, resource));

  // 4. one transaction: the code is spent, the refresh token stored, the grant touched (and
  // narrowed). The access token is signed meanwhile (as the refresh grant's) and leaves only if
  // this redemption spent the code.
  const refresh = client.grantTypes.includes('refresh_token') ? newRefreshToken() : undefined;
  const minting = mintGrantAccessToken(deps, grant, resource, scope, now, request.dpopJkt);
  // Awaited below only if the code was spent here; a redemption that failed must not leave it unhandled.
  minting.catch(() => undefined);
  const spent = await redeemCode(deps.db, {
    codeHash: row.codeHash,
    at: now,
    grantId: grant.id,
    // RFC 9449 §5: a public client's refresh token is bound to its DPoP key (a confidential
    // client's is bound to its credentials already).
    refreshToken: refresh && { id: randomId(), tokenHash: refresh.hash, clientId: client.clientId, scope, expiresAt: grant.expiresAt ?? now + 30 * 86400, dpopJkt: (client.type === 'public' ? request.dpopJkt : undefined) ?? null },
    narrowGrant: grantScope && grantScope !== grant.scope ? { from: grant.scope, to: grantScope } : undefined,
  });
  if (!spent) {
    await revokeGrant(deps, row.grantId, { reason: 'authorization code replayed', by: 'system' });
    throw invalidGrant('code redeemed concurrently: grant revoked');
  }

  // 5. mint
  const access = await minting;

  // 6. respond
  return { access_token: access.token, token_type: access.tokenType, expires_in: access.ttl, scope, ...(refresh ? { refresh_token: refresh.token } : {}) };
}

import { OAuthError } from '../../errors.js';
import { randomId } from '../../lib/random.js';
import { allocateStatusIndex, ensureStandingGrant } from '../../store/grants.js';
import type { ClientRow, GrantRow } from '../../store/tables.js';
import { authenticateClient } from '../client-auth.js';
import { resolveAudience } from '../resource-indicator.js';
import { formatScope, parseScope } from '../scope.js';
import type { GrantDeps, GrantRequest, TokenResponse } from './grant.js';
import { mintGrantAccessToken, requireDpopWhenBound } from './issue-tokens.js';

/**
 * RFC 6749 §4.4 client credentials: a confidential client gets a token for itself.
 * One standing grant per (client, resource) is found or made once, then reused, so a warm
 * request reads and never writes.
 */
export async function clientCredentialsGrant(deps: GrantDeps, request: GrantRequest): Promise<TokenResponse> {
  // 1. parse
  const requested = parseScope(request.form.get('scope'));
  const resourceParams = request.form.getAll('resource');

  // 2. authenticate: §4.4 is for confidential clients only
  const { client } = await authenticateClient(deps, request.authorization, request.form);
  if (client.type !== 'confidential') {
    throw new OAuthError('unauthorized_client', 'client_credentials is for confidential clients');
  }
  if (!client.grantTypes.includes('client_credentials')) {
    throw new OAuthError('unauthorized_client', 'the client may not use client_credentials');
  }

  // 3. load and check: which resource, which scopes
  const { resource, scopes } = await resolveAudience(deps, client, resourceParams, requested);
  requireDpopWhenBound(client, resource, request.dpopJkt);

  // 4. the standing grant (written once per client and resource; a lost race wastes one status index)
  const now = deps.clock.now();
  const grant = (await deps.readCache.standingGrant(client.clientId, resource.identifier)) ?? (await createStandingGrant(deps, client, resource.identifier, now));

  // 5. mint: RFC 9068 §2.2, `sub` is the client itself when no person is involved
  const scope = formatScope(scopes);
  const { token, ttl, tokenType } = await mintGrantAccessToken(deps, grant, resource, scope, now, request.dpopJkt);

  // 6. respond: §4.4.3, no refresh token
  return { access_token: token, token_type: tokenType, expires_in: ttl, scope };
}

async function createStandingGrant(deps: GrantDeps, client: ClientRow, resource: string, now: number): Promise<GrantRow> {
  const id = randomId();
  return ensureStandingGrant(deps.db, {
    id,
    clientId: client.clientId,
    userId: null,
    resource,
    scope: formatScope(client.scopes),
    kind: 'client_credentials',
    statusIndex: await allocateStatusIndex(deps.db, id),
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
    expiresAt: null,
  });
}

import { OAuthError } from '../../errors.js';
import { randomId } from '../../lib/random.js';
import { revokeGrant } from '../../revocation/revoke-grant.js';
import { findGrant, touchGrant } from '../../store/grants.js';
import { findRefreshToken, findRefreshTokenById, insertRefreshToken, markRotated, type RefreshTokenRow } from '../../store/refresh-tokens.js';
import { findResourceByIdentifier } from '../../store/resources.js';
import { findUser } from '../../store/users.js';
import { signAccessToken, type AccessTokenClaims } from '../../tokens/access-token.js';
import { hashRefreshToken, successorRefreshToken } from '../../tokens/refresh-token.js';
import { authenticateClient } from '../client-auth.js';
import { formatScope, parseScope } from '../scope.js';
import type { GrantDeps, TokenRequest, TokenResponse } from './grant.js';
import { grantUsable, mintGrantAccessToken } from './issue-tokens.js';

const invalidGrant = (detail: string) => new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked', { detail });

/** What a rotation answered, kept (without secrets) so a retry gets the same answer. */
interface Answered {
  claims: AccessTokenClaims;
  kid: string;
  expiresIn: number;
}

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every refresh spends the token and returns a
 * successor. Exactly one of concurrent refreshes rotates (a conditional UPDATE decides); a repeat
 * within the grace window — a concurrent duplicate, or a client that lost the answer — gets the
 * same successor tokens back; any later reuse revokes the whole grant.
 */
export async function refreshTokenGrant(deps: GrantDeps, request: TokenRequest): Promise<TokenResponse> {
  // 1. parse
  const presented = request.form.get('refresh_token');
  if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
  const requested = parseScope(request.form.get('scope'));

  // 2. authenticate
  const { client } = await authenticateClient(deps, request.authorization, request.form);
  if (!client.grantTypes.includes('refresh_token')) throw new OAuthError('unauthorized_client', 'the client may not use refresh tokens');

  // 3. load and check
  const now = deps.clock.now();
  const row = presented.length <= 512 ? await findRefreshToken(deps.db, hashRefreshToken(presented)) : undefined;
  if (!row || row.clientId !== client.clientId) throw invalidGrant('unknown token or another client’s');
  const grant = await findGrant(deps.db, row.grantId);
  if (!grantUsable(deps, grant, now) || row.expiresAt <= now) throw invalidGrant('grant revoked, expired or idle');
  if (row.usedAt !== null) return answerRepeatOrRevoke(deps, row, presented, now);
  // §6: the new access token may carry fewer scopes, never more.
  const granted = row.scope.split(' ');
  if (requested && requested.some((s) => !granted.includes(s))) throw new OAuthError('invalid_scope', 'a refresh may narrow the scope, never widen it');
  const user = grant.userId ? await findUser(deps.db, grant.userId) : undefined;
  if (grant.userId && (!user || user.disabled)) throw invalidGrant('user gone or disabled');
  const resource = await findResourceByIdentifier(deps.db, grant.resource);
  if (!resource) throw invalidGrant('resource gone');

  // 4. one transaction: rotate (the database picks the one winner), store the successor, touch the grant
  const scope = requested ? formatScope(requested) : row.scope;
  const access = await mintGrantAccessToken(deps, grant, resource, scope, now);
  const successor = successorRefreshToken(deps.secrets.refreshSuccessor, presented);
  const answered: Answered = { claims: access.claims, kid: access.kid, expiresIn: access.ttl };
  const rotated = await deps.db.transaction(async (trx) => {
    const successorId = randomId();
    if (!(await markRotated(trx, row.id, now, successorId, JSON.stringify(answered)))) return false;
    await insertRefreshToken(trx, { id: successorId, tokenHash: successor.hash, grantId: grant.id, clientId: client.clientId, scope: row.scope, createdAt: now, expiresAt: row.expiresAt });
    await touchGrant(trx, grant.id, now);
    return true;
  });
  if (!rotated) {
    // Another request rotated it first while this one still read it unspent: a concurrent duplicate
    // of the same refresh, not a reuse after rotation, so it gets the winner's answer even when the
    // clock ticked past the grace window in between (RFC 9700 §4.14.2 is about reuse).
    const winner = await findRefreshTokenById(deps.db, row.id);
    return answerRepeatOrRevoke(deps, winner!, presented, now, { concurrent: true });
  }

  // 5. respond
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.ttl, scope, refresh_token: successor.token };
}

async function answerRepeatOrRevoke(deps: GrantDeps, row: RefreshTokenRow, presented: string, now: number, opts: { concurrent?: boolean } = {}): Promise<TokenResponse> {
  // The same second as the rotation is always a duplicate of it; REFRESH_GRACE widens the window.
  if (row.usedAt !== null && row.successorAccess && (opts.concurrent || now - row.usedAt <= deps.config.refreshGrace)) {
    const answered = JSON.parse(row.successorAccess) as Answered;
    const { token } = await signAccessToken(deps.keyRing, answered.claims, answered.kid);
    const successor = successorRefreshToken(deps.secrets.refreshSuccessor, presented);
    return { access_token: token, token_type: 'Bearer', expires_in: answered.expiresIn, scope: answered.claims.scope, refresh_token: successor.token };
  }
  await revokeGrant(deps, row.grantId, { reason: 'rotated refresh token reused', by: 'system' });
  throw invalidGrant('rotated token reused: grant revoked');
}

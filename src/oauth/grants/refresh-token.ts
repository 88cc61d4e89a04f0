import { OAuthError } from '../../errors.js';
import { randomId } from '../../lib/random.js';
import { revokeGrant } from '../../revocation/revoke-grant.js';
import { findRefreshTokenById, type RefreshTokenRow } from '../../store/refresh-tokens.js';
import { signAccessToken, type AccessTokenClaims } from '../../tokens/access-token.js';
import { hashRefreshToken, successorRefreshToken } from '../../tokens/refresh-token.js';
import { allowedNow } from '../allowed-now.js';
import { authenticateClient } from '../client-auth.js';
import { requireGrantResource } from '../resource-indicator.js';
import { formatScope, parseScope } from '../scope.js';
import type { GrantDeps, GrantRequest, TokenResponse } from './grant.js';
import { grantAccessTokenClaims, grantUsable, requireDpopWhenBound } from './issue-tokens.js';

/** Seconds after a rotation within which the same refresh is a concurrent duplicate (see below). */
const CONCURRENCY_WINDOW = 1;

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
export async function refreshTokenGrant(deps: GrantDeps, request: GrantRequest): Promise<TokenResponse> {
  // When this request began: a rotation committed at or after it was a concurrent duplicate's.
  const startedAt = deps.clock.now();

  // 1. parse
  const presented = request.form.get('refresh_token');
  if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
  const requested = parseScope(request.form.get('scope'));

  // 2. authenticate
  const { client } = await authenticateClient(deps, request.authorization, request.form);
  if (!client.grantTypes.includes('refresh_token')) throw new OAuthError('unauthorized_client', 'the client may not use refresh tokens');

  // 3. load and check
  const now = startedAt;
  // One read for the token and its grant, beside the writer: never queued behind a group commit.
  const found = presented.length <= 512 ? await deps.reads.refreshTokenWithGrant(hashRefreshToken(presented)) : undefined;
  if (!found || found.token.clientId !== client.clientId) throw invalidGrant('unknown token or another client’s');
  const { token: row, grant } = found;
  if (!grantUsable(deps, grant, now) || row.expiresAt <= now) throw invalidGrant('grant revoked, expired or idle');
  // RFC 9449 §5: a bound refresh token is used only with a proof by the same key — before
  // anything else, a repeat within the grace window included (a thief holds no key).
  if (row.dpopJkt !== null && request.dpopJkt !== row.dpopJkt) {
    throw new OAuthError('invalid_dpop_proof', 'the refresh token is bound to another DPoP key', { detail: request.dpopJkt ? 'proof by another key' : 'no proof for a bound refresh token' });
  }
  if (row.usedAt !== null) return answerRepeatOrRevoke(deps, row, presented, startedAt);
  // §6: the new access token may carry fewer scopes, never more, and is for the grant's resource.
  requireGrantResource(request.form.getAll('resource'), grant.resource);
  const granted = row.scope.split(' ');
  if (requested && requested.some((s) => !granted.includes(s))) throw new OAuthError('invalid_scope', 'a refresh may narrow the scope, never widen it');
  // A disabled or deleted person's grants are revoked at that moment, so the grant check covers them.
  const resource = await deps.readCache.resource(grant.resource);
  if (!resource) throw invalidGrant('resource gone');
  requireDpopWhenBound(client, resource, request.dpopJkt);
  // Issue #10: never more than the client may have and the resource offers now, whatever was
  // approved; the grant and the successor are narrowed to match, and nothing left ends the grant.
  const kept = allowedNow(granted, client, resource);
  if (kept.length === 0) throw invalidGrant('every scope of the grant was taken from the client or the resource');
  const issued = requested ? allowedNow(requested, client, resource) : kept;
  if (issued.length === 0) throw new OAuthError('invalid_scope', 'the requested scope is no longer allowed to the client');
  const grantScope = formatScope(allowedNow(grant.scope.split(' '), client, resource));

  // 4. one statement (a transaction when the grant is narrowed or touched), shared with the
  // rotations arriving meanwhile (group commit): rotate (the database picks the one winner) and
  // store the successor, maybe narrow or touch the grant. The access token's claims are stored
  // with the rotation. It is signed while the rotation commits (both wait for the thread pool; one
  // after the other, a refresh at c=10 took 18 % longer) and leaves only if this rotation won: a
  // loser drops its signature and answers with the winner's claims, signed anew.
  const scope = formatScope(issued);
  const access = grantAccessTokenClaims(deps, grant, resource, scope, now, request.dpopJkt);
  const kid = deps.keyRing.signingKey().kid;
  const successor = successorRefreshToken(deps.secrets.refreshSuccessor, presented);
  const answered: Answered = { claims: access.claims, kid, expiresIn: access.ttl };
  // The successor keeps the binding; an unbound public-client token is bound by its first proof.
  const dpopJkt = row.dpopJkt ?? (client.type === 'public' ? request.dpopJkt : null) ?? null;
  const signing = signAccessToken(deps.keyRing, access.claims, kid);
  // Awaited below only if this rotation won; a rotation that failed must not leave it unhandled.
  signing.catch(() => undefined);
  const rotated = await deps.rotations.rotate({
    tokenId: row.id,
    grantId: grant.id,
    rotatedAt: deps.clock.now(),
    successorAccess: JSON.stringify(answered),
    // Its grant, client and expiry are this token's (store/rotate-refresh-tokens.ts).
    successor: { id: randomId(), tokenHash: successor.hash, scope: formatScope(kept), dpopJkt },
    narrowGrant: grantScope && grantScope !== grant.scope ? { from: grant.scope, to: grantScope } : undefined,
    // Idle timeouts count in days: marking the grant used once a minute is enough.
    touchGrantAt: (grant.lastUsedAt ?? 0) < now - 60 ? now : undefined,
  });
  if (!rotated) {
    // Another request rotated it first while this one still read it unspent: a concurrent
    // duplicate, whatever the clocks say (the winner's instance may run ahead of this one's); or
    // its grant was revoked meanwhile (nothing spent).
    const winner = await findRefreshTokenById(deps.db, row.id);
    if (!winner || winner.usedAt === null) throw invalidGrant('grant revoked during the refresh');
    return answerRepeatOrRevoke(deps, winner, presented, startedAt, { raced: true });
  }

  // 5. respond
  const { token } = await signing;
  return { access_token: token, token_type: access.tokenType, expires_in: access.ttl, scope, refresh_token: successor.token };
}

/**
 * A refresh of an already rotated token. Begun within a second of the rotation's commit (times are
 * whole seconds, so the same or the next one), or `raced` (it read the token unspent and lost the
 * rotation): a concurrent duplicate of the same refresh — two tabs, a retry racing its original —
 * not a reuse, so it gets the winner's answer (RFC 9700 §4.14.2 is about reuse). Begun within
 * REFRESH_GRACE after: a client retrying a lost answer, answered the same. Anything later is a
 * reuse: the whole grant is revoked. The times are two instances' clocks when the rotation was
 * made on another one: they must agree (README, Deployment).
 */
async function answerRepeatOrRevoke(deps: GrantDeps, row: RefreshTokenRow, presented: string, startedAt: number, opts: { raced?: boolean } = {}): Promise<TokenResponse> {
  const concurrent = opts.raced === true || (row.usedAt !== null && startedAt - row.usedAt <= CONCURRENCY_WINDOW);
  const withinGrace = row.usedAt !== null && startedAt - row.usedAt <= deps.config.refreshGrace;
  if (row.successorAccess && (concurrent || withinGrace)) {
    const answered = JSON.parse(row.successorAccess) as Answered;
    const { token } = await signAccessToken(deps.keyRing, answered.claims, answered.kid);
    const successor = successorRefreshToken(deps.secrets.refreshSuccessor, presented);
    return { access_token: token, token_type: answered.claims.cnf ? 'DPoP' : 'Bearer', expires_in: answered.expiresIn, scope: answered.claims.scope, refresh_token: successor.token };
  }
  await revokeGrant(deps, row.grantId, { reason: 'rotated refresh token reused', by: 'system' });
  throw invalidGrant('rotated token reused: grant revoked');
}

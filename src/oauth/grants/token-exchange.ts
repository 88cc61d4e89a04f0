import { OAuthError } from '../../errors.js';
import { randomId } from '../../lib/random.js';
import { insertChildGrant } from '../../store/grants.js';
import type { GrantRow } from '../../store/tables.js';
import { mintAccessToken, type Actor } from '../../tokens/access-token.js';
import { acceptAccessToken } from '../accept-access-token.js';
import { authenticateClient } from '../client-auth.js';
import { resolveAudience } from '../resource-indicator.js';
import { formatScope, parseScope } from '../scope.js';
import type { GrantDeps, GrantRequest, TokenResponse } from './grant.js';
import { requireDpopWhenBound } from './issue-tokens.js';

/** RFC 8693 §2.1: the grant type, as the token endpoint dispatches it. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: the one token type Grantor takes and issues, its own access tokens. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** How many exchanges deep a chain may go (counted by the nesting of `act`): each one is a grant. */
export const MAX_EXCHANGE_DEPTH = 4;

// RFC 8693 §2.2.2: a bad request or a subject token that is invalid or refused by policy MUST be
// invalid_request; the client sees a generic description, the reason goes to the log.
const badSubject = (detail: string) => new OAuthError('invalid_request', 'the subject token is invalid, expired, revoked or not acceptable', { detail });

/**
 * RFC 8693 token exchange, for delegation: a confidential client presents an access token of
 * Grantor's it was given (`subject_token`) and gets an access token for another registered
 * resource, acting for the token's subject (`act`, §4.1). Policy is the target resource's
 * `token_exchange_clients` (default nobody). The new token carries at most the subject token's
 * scopes (and only those the client may have on the resource), lives no longer than the subject
 * token, and belongs to a new grant whose parent is the subject token's grant: revoking the parent
 * revokes it (src/revocation/revoke-grant.ts). No refresh token is issued.
 */
export async function tokenExchangeGrant(deps: GrantDeps, request: GrantRequest): Promise<TokenResponse> {
  // 1. parse (§2.1)
  const { form } = request;
  const subjectToken = form.get('subject_token');
  const subjectTokenType = form.get('subject_token_type');
  if (!subjectToken) throw new OAuthError('invalid_request', 'subject_token is required');
  if (!subjectTokenType) throw new OAuthError('invalid_request', 'subject_token_type is required');
  if (subjectTokenType !== ACCESS_TOKEN_TYPE) throw new OAuthError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  // §2.1: actor_token_type is required with actor_token and must not come without one. Grantor
  // takes no actor token: the authenticated client is the actor.
  if (form.has('actor_token') || form.has('actor_token_type')) throw new OAuthError('invalid_request', 'actor_token is not supported: the authenticated client is the actor');
  const requestedType = form.get('requested_token_type');
  if (requestedType !== null && requestedType !== ACCESS_TOKEN_TYPE) throw new OAuthError('invalid_request', `requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  const requested = parseScope(form.get('scope'));
  // §2.1: `resource` (an absolute URI) and `audience` (a logical name: here the same identifier)
  // both name the target; Grantor issues a token for exactly one.
  const targets = [...new Set([...form.getAll('resource'), ...form.getAll('audience')])];
  if (targets.length === 0) throw new OAuthError('invalid_request', 'name the target with resource or audience');
  if (targets.length > 1) throw new OAuthError('invalid_target', 'one resource per access token');

  // 2. authenticate: only a client that proves who it is can be named by policy
  const { client, method } = await authenticateClient(deps, request.authorization, form);
  if (method === 'none' || client.type !== 'confidential') throw new OAuthError('unauthorized_client', 'token exchange is for confidential clients');

  // 3. load and check: the target and its policy first, then the subject token
  const { resource, scopes: clientMay } = await resolveAudience(deps, client, targets, undefined).catch((err: unknown) => {
    // A client with no scope at all on the target is one Grantor will not issue a token for that
    // target to: RFC 8693 §2.2.2 invalid_target, like a client the target's policy does not name.
    if (err instanceof OAuthError && err.code === 'invalid_scope') throw new OAuthError('invalid_target', 'the client may not exchange tokens for this resource', { detail: err.description });
    throw err;
  });
  if (!resource.tokenExchangeClients.includes(client.clientId)) {
    throw new OAuthError('invalid_target', 'the client may not exchange tokens for this resource', { detail: `${client.clientId} not in token_exchange_clients of ${resource.identifier}` });
  }
  // The one check of Grantor's own tokens: signature, typ, iss, exp, and a live grant and client.
  const accepted = await acceptAccessToken(deps, subjectToken);
  if (!accepted.ok) throw badSubject(accepted.reason);
  const { claims: subject, grant: parent } = accepted;
  if (subject.scope === '') throw badSubject('no scope of the subject token is still allowed to its client');
  // RFC 9449 §7.1 and RFC 8693 §2.1 together: a DPoP-bound token is only usable by the holder of
  // its key, to exchange it too; a proof by that key must come with it.
  if (subject.cnf && subject.cnf.jkt !== request.dpopJkt) {
    throw badSubject(request.dpopJkt ? 'DPoP proof by another key than the subject token is bound to' : 'DPoP-bound subject token without a proof');
  }
  if (actorDepth(subject.act) >= MAX_EXCHANGE_DEPTH) throw badSubject(`exchange chain deeper than ${MAX_EXCHANGE_DEPTH}`);
  // At most the subject token's scopes, and of those only what the client may have on the target.
  const available = subject.scope.split(' ').filter((s) => clientMay.includes(s));
  if (requested) {
    const refused = requested.filter((s) => !available.includes(s));
    if (refused.length) throw new OAuthError('invalid_scope', 'the requested scope exceeds the subject token’s', { detail: `refused: ${refused.join(' ')}` });
  }
  const scopes = requested ?? available;
  if (scopes.length === 0) throw new OAuthError('invalid_scope', 'the subject token carries no scope of this resource the client may have');
  requireDpopWhenBound(client, resource, request.dpopJkt);

  // 4. one transaction: the derived grant, inserted while its parent is held live
  const now = deps.clock.now();
  // Never outliving the subject token (acceptAccessToken refused it at or past `exp`).
  const ttl = Math.min(resource.accessTokenTtl ?? deps.config.accessTokenTtl, subject.exp - now);
  if (ttl <= 0) throw badSubject('subject token expired');
  const scope = formatScope(scopes);
  const child: GrantRow & { parentGrantId: string } = {
    id: randomId(),
    clientId: client.clientId,
    userId: parent.userId,
    resource: resource.identifier,
    scope,
    kind: 'token_exchange',
    statusIndex: 0,
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
    expiresAt: now + ttl,
    parentGrantId: parent.id,
  };
  const inserted = await insertChildGrant(deps.db, child);
  if (!inserted) throw badSubject('subject grant revoked during the exchange');

  // 5. mint: the subject stays the subject; the client is the actor (§4.1), earlier actors nested
  const actor: Actor = subject.act ? { sub: client.clientId, act: subject.act } : { sub: client.clientId };
  const { token } = await mintAccessToken(deps.keyRing, {
    issuer: deps.config.issuer,
    subject: subject.sub,
    audience: resource.identifier,
    clientId: client.clientId,
    scope,
    grantId: child.id,
    statusIndex: child.statusIndex,
    statusListUri: deps.statusList.uri,
    issuedAt: now,
    ttl,
    dpopJkt: request.dpopJkt,
    actor,
  });

  // 6. respond (§2.2.1): issued_token_type always; no refresh token
  return { access_token: token, issued_token_type: ACCESS_TOKEN_TYPE, token_type: request.dpopJkt ? 'DPoP' : 'Bearer', expires_in: ttl, scope };
}

/** How many exchanges made this token: the nesting depth of `act` (0 when none). */
function actorDepth(act: Actor | undefined): number {
  let depth = 0;
  for (let a = act; a && typeof a === 'object'; a = a.act) depth++;
  return depth;
}

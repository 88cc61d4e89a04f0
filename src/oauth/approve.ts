import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { randomId } from '../lib/random.js';
import { insertCode } from '../store/authorization-codes.js';
import type { Db } from '../store/db.js';
import { allocateStatusIndex, findUserGrant, insertGrant, setGrantScope } from '../store/grants.js';
import type { ClientRow, GrantRow } from '../store/tables.js';
import { newAuthorizationCode } from '../tokens/authorization-code.js';
import type { AuthorizationRequest } from './authorize.js';
import { errorRedirect, withParams } from './authorize.js';
import { grantUsable } from './grants/issue-tokens.js';
import { formatScope } from './scope.js';

export type ApproveDeps = { db: Db; clock: Clock; config: Pick<Config, 'issuer' | 'baseUrl' | 'codeTtl' | 'grantMaxLifetime' | 'grantIdleTimeout'> };

/**
 * The person's grant to this app for this API while it can still be used. One past its absolute
 * lifetime or idle timeout is over (its codes and refresh tokens answer invalid_grant), so consent
 * is asked again and a new grant begins, rather than issuing codes no one could redeem.
 */
async function liveUserGrant(deps: Pick<ApproveDeps, 'db' | 'config'>, userId: string, request: AuthorizationRequest, now: number): Promise<GrantRow | undefined> {
  const grant = await findUserGrant(deps.db, userId, request.client.clientId, request.resource.identifier);
  return grant && grantUsable(deps, grant, now) ? grant : undefined;
}

/**
 * Whether a person's earlier approval may stand in for asking them again. Only when the app can
 * prove who it is and an admin vouched for what it is: a public client has no secret, so any app
 * that claims the same private-use scheme or loopback redirect URI would be handed a code without
 * the person seeing anything (RFC 8252 §8.6, RFC 6749 §10.2). An app nobody vetted — registered by
 * itself (RFC 7591) or known by its metadata document — proves only that it holds its own key, and
 * whoever holds its registration may repoint its redirect URIs and keys (RFC 7592) to collect codes
 * from everyone who once approved it. Both kinds are asked every time (issue #10).
 */
export function mayRememberConsent(client: Pick<ClientRow, 'type' | 'source'>): boolean {
  return client.type === 'confidential' && client.source === undefined;
}

/** True when this person already approved every requested scope for this app and API. */
export async function consentCovers(deps: Pick<ApproveDeps, 'db' | 'clock' | 'config'>, userId: string, request: AuthorizationRequest): Promise<boolean> {
  const grant = await liveUserGrant(deps, userId, request, deps.clock.now());
  if (!grant) return false;
  const consented = new Set(grant.scope.split(' '));
  return request.scopes.every((s) => consented.has(s));
}

/**
 * The person said yes: the grant of (person, app, API) is made or widened, and a single-use code
 * bound to the client, redirect URI, PKCE challenge, scope and resource goes back to the app
 * with `state` and `iss` (RFC 6749 §4.1.2, RFC 9207).
 */
export async function approveAuthorization(deps: ApproveDeps, userId: string, request: AuthorizationRequest): Promise<string> {
  const now = deps.clock.now();
  const grant = await grantFor(deps, userId, request, now);
  const { code, hash } = newAuthorizationCode();
  await insertCode(deps.db, {
    codeHash: hash,
    clientId: request.client.clientId,
    userId,
    grantId: grant.id,
    redirectUri: request.redirectUri,
    redirectUriSent: request.redirectUriSent,
    codeChallenge: request.codeChallenge,
    dpopJkt: request.dpopJkt,
    scope: formatScope(request.scopes),
    resource: request.resource.identifier,
    createdAt: now,
    expiresAt: now + deps.config.codeTtl,
    usedAt: null,
  });
  return withParams(request.redirectUri, { code, state: request.state, iss: deps.config.issuer });
}

/** The person said no: §4.1.2.1 access_denied. */
export function denyAuthorization(deps: Pick<ApproveDeps, 'config'>, request: AuthorizationRequest): string {
  return errorRedirect(deps, request.redirectUri, 'access_denied', 'the person denied the request', request.state);
}

async function grantFor(deps: ApproveDeps, userId: string, request: AuthorizationRequest, now: number): Promise<GrantRow> {
  const existing = await liveUserGrant(deps, userId, request, now);
  if (existing) {
    const scopes = new Set([...existing.scope.split(' '), ...request.scopes]);
    if (scopes.size !== existing.scope.split(' ').length) await setGrantScope(deps.db, existing.id, formatScope([...scopes]));
    return existing;
  }
  const id = randomId();
  const grant: GrantRow = {
    id,
    clientId: request.client.clientId,
    userId,
    resource: request.resource.identifier,
    scope: formatScope(request.scopes),
    kind: 'authorization_code',
    statusIndex: await allocateStatusIndex(deps.db, id),
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
    expiresAt: now + deps.config.grantMaxLifetime,
  };
  await insertGrant(deps.db, grant);
  return grant;
}

import type { Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow, GrantRow } from '../store/tables.js';
import { verifyAccessToken, type AccessTokenClaims, type VerifyResult } from '../tokens/access-token.js';
import { grantUsable } from './grants/issue-tokens.js';
import { formatScope } from './scope.js';

export type AcceptDeps = {
  db: Db;
  clock: Clock;
  keyRing: KeyRing;
  readCache: Pick<ReadCache, 'client' | 'grantNow'>;
  verifiedTokens: VerifiedTokens;
  config: Pick<Config, 'issuer' | 'grantIdleTimeout'>;
};

export type Refusal = { ok: false; reason: string };

/** A token Grantor accepts, its `scope` cut down to what its client may still have. */
export type Acceptance = { ok: true; claims: AccessTokenClaims; grant: GrantRow; client: ClientRow } | Refusal;

const refuse = (reason: string): Refusal => ({ ok: false, reason });

/**
 * The one way Grantor accepts one of its own access tokens — the admin API's bearer auth and
 * introspection's liveness decision both ask here, and so must anything else that takes them.
 * A signature check alone would accept a token until it expires, whatever happened since.
 *
 * Accepted only when, now:
 * - it verifies (RFC 9068 §4: RS256 with a published key, `typ` at+jwt, exact `iss`, not past `exp`);
 * - its grant exists, is not revoked and not past its lifetime or idle timeout (see {@link liveGrant});
 * - its client exists and is not disabled;
 * and the claims answered carry only the scopes the client may still have: a scope an admin took
 * from the client since is not honoured (the admin API then answers 403 insufficient_scope).
 *
 * The grant is read from the database on every call (a read begun after the call, shared with
 * concurrent calls for the same grant: ReadCache.grantNow), so a revocation committed by any
 * instance counts at once; the client comes from the read cache, dropped at once on the instance that
 * changed it and within its poll interval (250 ms) elsewhere.
 */
export async function acceptAccessToken(deps: AcceptDeps, token: string): Promise<Acceptance> {
  const now = deps.clock.now();
  const verified = await verifiedOnce(deps, token, now);
  if (!verified.ok) return verified;
  const { claims } = verified;
  if (typeof claims.grant_id !== 'string') return refuse('no grant_id');
  const live = await liveGrant(deps, claims.grant_id, claims.client_id, now);
  if (!live.ok) return live;
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => live.client.scopes.includes(s)) : [];
  return { ok: true, claims: { ...claims, scope: formatScope(scopes) }, grant: live.grant, client: live.client };
}

/**
 * Tokens whose signature and claims verified: the exact bytes, with the key set they verified
 * against. One per app (buildDeps), beside the key ring it serves.
 */
export type VerifiedTokens = Map<string, { keys: unknown; claims: AccessTokenClaims }>;

/** Most verified tokens remembered; past it the memory starts afresh. */
const MAX_VERIFIED = 5_000;

export function createVerifiedTokens(): VerifiedTokens {
  return new Map();
}

/**
 * verifyAccessToken(), with the RSA verification done once per token: the same bytes verified
 * against the same published key set verify again, so only what changes with time is checked
 * again (RFC 7519 §4.1.4 `exp`, §4.1.5 `nbf`). A key leaving the set (a new resolver) makes every
 * token verify afresh. Revocation is not decided here: the grant is read on every call.
 */
async function verifiedOnce(deps: Pick<AcceptDeps, 'keyRing' | 'config' | 'verifiedTokens'>, token: string, now: number): Promise<VerifyResult> {
  const keys = deps.keyRing.verificationKeys();
  const memo = deps.verifiedTokens;
  const hit = memo.get(token);
  if (hit && hit.keys === keys && stillInTime(hit.claims, now)) return { ok: true, claims: hit.claims };
  const verified = await verifyAccessToken(deps.keyRing, token, { issuer: deps.config.issuer, now });
  if (verified.ok) {
    if (memo.size >= MAX_VERIFIED) memo.clear();
    memo.set(token, { keys, claims: verified.claims });
  }
  return verified;
}

/** jose's time checks, as jwtVerify() makes them without a clock tolerance. */
function stillInTime(claims: AccessTokenClaims & { nbf?: unknown }, now: number): boolean {
  return claims.exp > now && !(typeof claims.nbf === 'number' && claims.nbf > now);
}

/**
 * Whether the grant a token names can still be used by the client the token was issued to: the
 * grant exists, belongs to that client, is not revoked, not past its lifetime or idle timeout;
 * the client exists and is not disabled. Introspection asks this of refresh tokens too.
 */
export async function liveGrant(
  deps: Pick<AcceptDeps, 'db' | 'readCache' | 'config'>,
  grantId: string,
  clientId: string,
  now: number,
): Promise<{ ok: true; grant: GrantRow; client: ClientRow } | Refusal> {
  const grant = await deps.readCache.grantNow(grantId);
  if (!grantUsable(deps, grant, now)) return refuse('grant revoked, expired, idle or gone');
  if (grant.clientId !== clientId) return refuse('grant of another client');
  const client = await deps.readCache.client(clientId);
  if (!client || client.disabled) return refuse('client disabled or gone');
  return { ok: true, grant, client };
}

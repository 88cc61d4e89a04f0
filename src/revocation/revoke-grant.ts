import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { activeGrantIds, markGrantRevoked, revokeChildGrants } from '../store/grants.js';
import { recordChange, type ReadCache } from '../store/read-cache.js';
import { appendRevocation } from '../store/revocations.js';
import type { StatusList } from './status-list.js';

export type RevokeDeps = { db: Db; clock: Clock; statusList: Pick<StatusList, 'invalidate'>; readCache: Pick<ReadCache, 'invalidate'> };

export interface Revoker {
  reason: string;
  /** Who revoked: `admin:<client_id>`, `cli`, `client:<client_id>`, `system`. */
  by: string;
}

/** Exchanges of exchanges (RFC 8693) followed this many generations deep at most. */
const MAX_GENERATIONS = 32;

/**
 * Revokes one grant: marks it and appends it to the revocation list in one transaction, committed
 * before this returns. The grants made by exchanging its tokens (RFC 8693), and theirs in turn,
 * are revoked in the same transaction, each with its own entry, so every channel — introspection,
 * the status list, the revocation feed — sees them go together. Idempotent: an already revoked (or unknown) grant changes nothing and
 * answers false. Nothing ever un-revokes a grant.
 */
export async function revokeGrant(deps: RevokeDeps, grantId: string, revoker: Revoker): Promise<boolean> {
  const now = deps.clock.now();
  const kind = await deps.db.transaction(async (trx) => {
    // The conditional UPDATE decides: of two racing revocations exactly one appends the entry.
    const revokedKind = await markGrantRevoked(trx, grantId, now);
    if (!revokedKind) return undefined;
    await appendRevocation(trx, { grantId, revokedAt: now, reason: revoker.reason, revokedBy: revoker.by });
    let parents = [grantId];
    for (let depth = 0; depth < MAX_GENERATIONS && parents.length > 0; depth++) {
      parents = await revokeChildGrants(trx, parents, now);
      for (const child of parents) await appendRevocation(trx, { grantId: child, revokedAt: now, reason: `parent grant revoked: ${revoker.reason}`.slice(0, 500), revokedBy: revoker.by });
    }
    // The read caches hold standing (client_credentials) grants only: a delegated grant's
    // revocation leaves every instance's copies as they are.
    if (revokedKind === 'client_credentials') await recordChange(trx);
    return revokedKind;
  });
  if (!kind) return false;
  deps.statusList.invalidate();
  if (kind === 'client_credentials') deps.readCache.invalidate();
  return true;
}

/** Revokes every live grant of a client or of a person; returns how many were revoked now. */
export async function revokeGrantsOf(deps: RevokeDeps, owner: { clientId: string } | { userId: string }, revoker: Revoker): Promise<number> {
  const ids = await activeGrantIds(deps.db, owner);
  let count = 0;
  for (const id of ids) if (await revokeGrant(deps, id, revoker)) count++;
  return count;
}

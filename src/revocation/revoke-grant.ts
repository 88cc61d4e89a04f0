import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { activeGrantIds, markGrantRevoked, revokeChildGrants } from '../store/grants.js';
import { recordChange, type ReadCache } from '../store/read-cache.js';
import { appendRevocation } from '../store/revocations.js';
import { queueRevocationEvents } from '../store/ssf-events.js';
import type { StatusList } from './status-list.js';

/** Wakes this instance's event deliverers (src/ssf/dispatcher.ts) for streams that got events. */
export interface EventWake {
  wake(streamIds: string[]): void;
}

export type RevokeDeps = { db: Db; clock: Clock; statusList: Pick<StatusList, 'invalidate'>; readCache: Pick<ReadCache, 'invalidate'>; ssf: EventWake };

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
  const done = await deps.db.transaction(async (trx) => {
    // The conditional UPDATE decides: of two racing revocations exactly one appends the entry.
    const revokedKind = await markGrantRevoked(trx, grantId, now);
    if (!revokedKind) return undefined;
    await appendRevocation(trx, { grantId, revokedAt: now, reason: revoker.reason, revokedBy: revoker.by });
    const revoked = [{ grantId, reason: revoker.reason }];
    let parents = [grantId];
    for (let depth = 0; depth < MAX_GENERATIONS && parents.length > 0; depth++) {
      parents = await revokeChildGrants(trx, parents, now);
      const reason = `parent grant revoked: ${revoker.reason}`.slice(0, 500);
      for (const child of parents) {
        await appendRevocation(trx, { grantId: child, revokedAt: now, reason, revokedBy: revoker.by });
        revoked.push({ grantId: child, reason });
      }
    }
    // Issue #13: the Shared Signals outbox, in this transaction, so a committed revocation always
    // has its events and an aborted one never does.
    const streamIds = await queueRevocationEvents(trx, revoked, now, revoker.by);
    // The read caches hold standing (client_credentials) grants only: a delegated grant's
    // revocation leaves every instance's copies as they are.
    if (revokedKind === 'client_credentials') await recordChange(trx);
    return { kind: revokedKind, streamIds };
  });
  if (!done) return false;
  const { kind } = done;
  // A waiting long poll or a push on this instance goes at once; other instances notice within SSF_CHECK_INTERVAL.
  if (done.streamIds.length) deps.ssf.wake(done.streamIds);
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

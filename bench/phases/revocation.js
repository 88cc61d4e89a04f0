// @ts-check
/**
 * Phase 7: revocation propagation (bench/revocation-propagation.js) on a Grantor of its own with a
 * short status list ttl: admin revocations, and how long until the module's verifier refuses each
 * token, through the status list and, on the same revocations, through a Shared Signals stream.
 */
import { startGrantor } from '../grantor-server.js';
import { measureRevocationPropagation } from '../revocation-propagation.js';

/** @param {{ ttl: number, grants: number, boundMs: number, log: (msg: string) => void }} o */
export async function measureRevocation({ ttl, grants, boundMs, log }) {
  log(`7/9 revocation propagation (a second Grantor with STATUS_LIST_TTL=${ttl})`);
  const grantor = await startGrantor({ env: { STATUS_LIST_TTL: String(ttl) } });
  try {
    return await measureRevocationPropagation({ grantor, ttl, grants, boundMs, log });
  } finally {
    await grantor.stop();
  }
}

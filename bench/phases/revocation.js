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
  } catch (err) {
    // The server's log says why it refused a request (the client it did not know, the secret…).
    if (err instanceof Error) err.message += `\n${grantor.logs()}`;
    throw err;
  } finally {
    await grantor.stop();
  }
}

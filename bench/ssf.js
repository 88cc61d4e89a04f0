// @ts-check
/**
 * `npm run bench:ssf`: bench/run.js's revocation rows alone (section 8 and 8a): revocation
 * propagation through the status list and through a Shared Signals stream on the same revocations,
 * then what a stream costs Grantor per revocation with 0, 1, 10 and 100 receivers. Same settings as
 * bench/run.js (BENCH_REVOKE_GRANTS, BENCH_STATUS_LIST_TTL, BENCH_SSF_RECEIVERS, BENCH_SSF_REVOCATIONS).
 */
import { list, num } from './env.js';
import { cleanupAll } from './procs.js';
import { renderStreams } from './render.js';
import { measureRevocation } from './phases/revocation.js';
import { measureStreamCost } from './ssf-cost.js';

const GRANTS = num('BENCH_REVOKE_GRANTS', 40);
const TTL = num('BENCH_STATUS_LIST_TTL', 1);
const RECEIVERS = list('BENCH_SSF_RECEIVERS', [0, 1, 10, 100]);
const REVOCATIONS = num('BENCH_SSF_REVOCATIONS', GRANTS);
const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);

let code = 0;
try {
  const revocation = await measureRevocation({ ttl: TTL, grants: GRANTS, boundMs: 10_000, log });
  const streamCost = await measureStreamCost({ receivers: RECEIVERS, revocations: REVOCATIONS, log });
  console.log(`\nRevocation propagation (Grantor with STATUS_LIST_TTL=${TTL}; machine load avg ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')})`);
  console.log(`   status list: p50 ${revocation.p50Ms?.toFixed(0)} ms, p99 ${revocation.p99Ms?.toFixed(0)} ms over ${GRANTS} revocations`);
  console.log(renderStreams(revocation, streamCost, (TTL + 1) * 1000));
  console.log(`BENCH_SSF_JSON ${JSON.stringify({ revocation, streamCost })}`);
} catch (/** @type {any} */ err) {
  console.error(err);
  code = 1;
}
await cleanupAll();
process.exit(code);

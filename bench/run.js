// @ts-check
/**
 * `npm run bench`: Grantor's client_credentials issuance against the machine's RS256 signing
 * ceiling and against node-oidc-provider doing the same job, in one run; then Grantor's delegated
 * side (refresh rotation, introspection), its resource-server module, and revocation propagation.
 *
 * This file only orchestrates: settings from the environment (bench/config.js) → the phases
 * (bench/run-phases.js: their order and grouping), each a module returning a typed result → one
 * BenchResults object (bench/types.d.ts) → in a smoke run, its sanity (bench/sanity.js) → bench/render.js,
 * the one renderer, for the printout and the final line `BENCH_JSON {...}`.
 *
 *   1. signing ceiling (bench/phases/signing.js → bench/signing-ceiling.js): worker_threads signing
 *      Grantor-shaped RS256 JWTs (node:crypto and jose)
 *   2. Grantor POST /oauth/token at several concurrencies (bench/phases/issuance.js; child process,
 *      temp SQLite + keys); the bare signer (bench/bare-signer-child.js) at c=50 for scale; then
 *      the all-core rows of 1 again. THE CEILING is jose on all cores (the faster of its two
 *      shapes), the mean of before and after
 *   3. Grantor GET /.well-known/jwks.json, /.well-known/oauth-authorization-server and /statuslists/1
 *      (plain and gzip), each as issue #14 was filed (bench/as-filed.js), through koa (`?via=koa`)
 *      and from prepared bytes on the lean route, back to back (bench/phases/documents.js)
 *   2b. what the access log and the rate limiter cost (bench/edge-costs.js)
 *   4–6b. on a Grantor of their own (bench/phases/delegated-access.js): the refresh grant (tokens
 *      seeded through the authorization code flow over HTTP, every request rotates, each connection
 *      chains on its successor), introspection as issue #14 was filed, through koa and on the lean path, the
 *      resource-server module's µs per verify against bare jose (bench/verify-cost.js), client
 *      authentication timing (bench/client-auth-timing.js; alone: `npm run bench:timing`)
 *   7. revocation propagation (bench/phases/revocation.js → bench/revocation-propagation.js): a
 *      Grantor with STATUS_LIST_TTL=1; admin revocations, and how long until the module's verifier
 *      refuses each token, through the status list and through a Shared Signals stream (poll);
 *      7d what a stream costs Grantor per revocation with 0, 1, 10, 100 receivers (bench/ssf-cost.js);
 *      7b DPoP (bench/dpop.js); 7c POST /oauth/register under REGISTRATION=open
 *      (bench/phases/registration.js); 7e GET /oauth/authorize for an app known by a Client ID
 *      Metadata Document beside an admin-registered client (bench/metadata-documents.js)
 *   8. node-oidc-provider v9 POST /token, same job as 2, then its refresh grant
 *      (bench/phases/oidc-provider.js)
 *   9. scale-out (bench/scale-out.js): 2's request at c=50 on four fresh servers back to back —
 *      SQLite and PostgreSQL, each as 1 process and as WORKERS=2 (node:cluster) — and the refresh
 *      grant at c=50 on PostgreSQL (1 process); server CPU summed over the primary and its workers
 *   then targets as PASS/FAIL lines (bench/targets.js; informative: exit code 0 unless broken). The
 *   printout keeps its earlier section numbers (4 = node-oidc-provider) and adds 5–8 for phases 4–7
 *   above, 9 for 9. Derived figures (ratios, reference runs): bench/figures.js.
 *
 * Grantor runs as operators run it (bench/grantor-server.js: access log at info, default rate limits;
 * phase 2's load rotates over LOAD_CLIENTS clients and forwarded addresses). Phases 4–6, 7b, 7c, 7e
 * and 9 drive one client far past the per-client limit and run with the limits off (they say so).
 *
 * BENCH_SMOKE=1 (`npm run bench:smoke`, the last step of `npm test`): every phase briefly (tiny
 * durations and counts, no settling pause between runs) and in four lanes side by side, each lane
 * with load generators of its own; exit 1 when a phase throws or returns insane results
 * (bench/sanity.js). Its figures mean nothing. BENCH_SMOKE_SERIAL=1: the smoke run's phases in order.
 *
 * env (default of the full run / of the smoke run):
 *      BENCH_SECONDS (per load run, 5 / 0.5), BENCH_SIGN_SECONDS (per signing row, 3 / 0.1),
 *      BENCH_WARMUP_SECONDS (2 / 0.3), BENCH_CONNECTIONS (1,10,50,100 / 10),
 *      BENCH_OIDC_CONNECTIONS (default: same as BENCH_CONNECTIONS),
 *      BENCH_REFRESH_CONNECTIONS (10,50 / 10), BENCH_REFRESH_SEED (refresh tokens made through the
 *      code flow first; default: enough for every run's in-flight losses), BENCH_INTROSPECT_CONNECTIONS
 *      (50 / 10), BENCH_VERIFY_ROUNDS (60 / 3) and BENCH_VERIFY_ITERATIONS (per round and variant,
 *      100 / 10), BENCH_DPOP_CONNECTIONS (10,50 / 10), BENCH_REVOKE_GRANTS (40 / 3),
 *      BENCH_STATUS_LIST_TTL (1), BENCH_SSF_RECEIVERS (0,1,10,100 / 0,2), BENCH_SSF_REVOCATIONS
 *      (default BENCH_REVOKE_GRANTS), BENCH_DATABASE_URL (PostgreSQL for phase 9, else
 *      TEST_DATABASE_URL, else postgres://grantor:grantor@127.0.0.1:5432/grantor_test; a fresh
 *      schema per server, dropped afterwards; unreachable → its rows are skipped),
 *      BENCH_SCALEOUT_CONNECTIONS (50 / 10), BENCH_EDGE_ROUNDS (2b's rounds, 6 / 1), BENCH_EDGE_SECONDS (each of its runs, 4 / 0.5),
 *      BENCH_TIMING_TRIES (400 / 20), BENCH_TIMING_WARMUP (100 / 10),
 *      BENCH_REGISTRATION_CONNECTIONS (7c, 10), BENCH_METADATA_DOCUMENT_CONNECTIONS (7e, 10),
 *      BENCH_LOAD_CLIENTS (256 / 16), BENCH_ONLY=grantor (skip the signing ceiling, the bare signer
 *      and oidc-provider, e.g. when profiling), BENCH_CPU_PROF=<dir> (run phase 2's Grantor under
 *      `node --cpu-prof`, profile written to <dir> at stop; the figures of such a run are skewed by
 *      the profiler).
 *
 * Adding a phase: a module under bench/phases/ exporting `async function measureX(o)` that takes
 * the settings and tools it uses (a typed options object) and returns its figures; its result type
 * as a field of BenchResults (bench/types.d.ts); a call in one of the groups of bench/run-phases.js;
 * its settings in bench/config.js; its section in bench/render.js (printout and BENCH_JSON); its
 * sanity checks in bench/sanity.js.
 */
import os from 'node:os';
import { readBenchConfig } from './config.js';
import { deriveFigures } from './figures.js';
import { BenchBroken } from './load-runs.js';
import { cleanupAll } from './procs.js';
import { render } from './render.js';
import { round } from './report.js';
import { runPhases } from './run-phases.js';
import { insaneResults } from './sanity.js';

const log = (/** @type {string} */ msg) => process.stderr.write(`${msg}\n`);

// ---- the run --------------------------------------------------------------------------------

async function main() {
  const config = readBenchConfig();
  const startedAt = Date.now();
  const cores = os.availableParallelism();
  const env = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpu: os.cpus()[0]?.model?.trim(), cores, loadavg: os.loadavg().map((v) => round(v, 2)) };
  log(`bench: node ${env.node}, ${cores} cores (${env.cpu}), load average ${env.loadavg.join(' ')}${config.concurrent ? '; smoke run: phases in four lanes side by side' : ''}`);

  /** @type {import('./types.js').BenchResults} */
  const results = { config, env, startedAt, ...(await runPhases(config)) };

  if (config.smoke) {
    const broken = insaneResults(results, deriveFigures(results));
    if (broken.length) throw new BenchBroken(`smoke run: phases gave insane results:\n  ${broken.join('\n  ')}`);
  }
  const { text, json } = render(results);
  process.stdout.write(text);
  process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
}

// ---- lifecycle ------------------------------------------------------------------------------

let exiting = false;
/** @param {number} code */
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await cleanupAll();
  process.exit(code);
}
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    log(`bench: ${sig}, stopping children`);
    shutdown(130);
  });
}

main().then(
  () => shutdown(0),
  (err) => {
    if (exiting) return; // interrupted: the failure is only the children being stopped
    log(`\nbench: BROKEN: ${err instanceof BenchBroken ? err.message : err?.stack ?? err}`);
    shutdown(1);
  },
);

// @ts-check
/**
 * `npm run bench`'s settings: the environment → one typed BenchConfig, each setting's default (the
 * full run's, then the smoke run's) beside its name. The phases get their settings from it, never
 * from process.env.
 */
import path from 'node:path';
import { list, num } from './env.js';

/**
 * Reads the settings from process.env.
 * @returns {import('./types.js').BenchConfig}
 */
export function readBenchConfig() {
  const env = process.env;
  /**
   * BENCH_SMOKE=1 (`npm run bench:smoke`, part of `npm test`): every phase with tiny durations and
   * counts, checking that each returns sane results, so that a broken phase fails the build.
   */
  const smoke = env.BENCH_SMOKE === '1';
  /** @type {<T>(full: T, smokeValue: T) => T} A setting's default: the full run's, or the smoke run's. */
  const byMode = (full, smokeValue) => (smoke ? smokeValue : full);

  const connections = list('BENCH_CONNECTIONS', byMode([1, 10, 50, 100], [10]));
  const refConnections = byMode(50, 10); // the p99 and comparison point
  const refreshConnections = list('BENCH_REFRESH_CONNECTIONS', byMode([10, 50], [10]));
  const warmupConnections = 10;
  const revokeGrants = num('BENCH_REVOKE_GRANTS', byMode(40, 3));
  const scaleOutConnections = num('BENCH_SCALEOUT_CONNECTIONS', refConnections);
  return {
    smoke,
    seconds: num('BENCH_SECONDS', byMode(5, 0.5)),
    signSeconds: num('BENCH_SIGN_SECONDS', byMode(3, 0.1)),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', byMode(2, 0.3)),
    // Let closed sockets and GC settle between load runs (a smoke run's figures mean nothing).
    settleMs: byMode(300, 0),
    connections,
    oidcConnections: list('BENCH_OIDC_CONNECTIONS', connections),
    onlyGrantor: env.BENCH_ONLY === 'grantor',
    cpuProfDir: env.BENCH_CPU_PROF ? path.resolve(env.BENCH_CPU_PROF) : undefined,
    refConnections,
    refreshConnections,
    warmupConnections,
    // Chaining needs only one token per connection; each run (and the warm-up) loses at most one per
    // connection (rotated by the server, answer unread when the run stops).
    refreshSeed: num('BENCH_REFRESH_SEED', warmupConnections + refreshConnections.reduce((a, b) => a + b, 0) + Math.max(...refreshConnections) + 20),
    introspectConnections: num('BENCH_INTROSPECT_CONNECTIONS', refConnections),
    verifyRounds: num('BENCH_VERIFY_ROUNDS', byMode(60, 3)),
    verifyIterations: num('BENCH_VERIFY_ITERATIONS', byMode(100, 10)),
    dpopConnections: list('BENCH_DPOP_CONNECTIONS', byMode([10, 50], [10])),
    dpopRounds: byMode(30, 3),
    registrationConnections: list('BENCH_REGISTRATION_CONNECTIONS', [10])[0],
    metadataDocumentConnections: list('BENCH_METADATA_DOCUMENT_CONNECTIONS', [10])[0],
    revokeGrants,
    revokeTtl: num('BENCH_STATUS_LIST_TTL', 1),
    propagationBoundMs: 10_000,
    ssfReceivers: list('BENCH_SSF_RECEIVERS', byMode([0, 1, 10, 100], [0, 2])),
    ssfRevocations: num('BENCH_SSF_REVOCATIONS', revokeGrants),
    ssfIdleSeconds: byMode(2, 0.5),
    // A multiple of six: each setup then runs before each other one as often as after it (bench/edge-costs.js).
    edgeRounds: num('BENCH_EDGE_ROUNDS', byMode(6, 1)),
    edgeSeconds: num('BENCH_EDGE_SECONDS', byMode(4, 0.5)),
    timingTries: num('BENCH_TIMING_TRIES', byMode(400, 20)),
    timingWarmup: num('BENCH_TIMING_WARMUP', byMode(100, 10)),
    scaleOutConnections,
    // The refresh run of 9 on PostgreSQL: one warm-up and one run, each losing at most one token per connection.
    scaleOutRefreshSeed: warmupConnections + scaleOutConnections + 20,
    // Independent phases side by side, each with load generators of its own: smoke only (it
    // would skew every figure of a full run).
    concurrent: smoke && env.BENCH_SMOKE_SERIAL !== '1',
  };
}

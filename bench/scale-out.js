// @ts-check
/**
 * Scale-out: phase 2's client_credentials issuance (same request, same load generator) at one
 * concurrency on four servers, each fresh and measured back to back:
 *
 *   SQLite, 1 process · PostgreSQL, 1 process · SQLite, WORKERS=2 · PostgreSQL, WORKERS=2
 *
 * and on the PostgreSQL single process also the refresh grant (phase 4's helpers: refresh tokens
 * seeded through the code flow, chained rotation in the scripted load generator).
 *
 * SQLite, 1 process is measured again here rather than taken from phase 2, so that the four figures
 * come from consecutive minutes of the same machine (phase 2's c=50 is printed beside it). Every
 * server gets the same KEY_ENCRYPTION_SECRET (one per bench run; keys sealed in the database as a
 * multi-instance deployment would have them). PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL,
 * else the local default; a fresh schema per server, dropped when it stops; skipped when the server
 * does not answer. Server CPU is the whole server: the cluster primary and its workers, all threads.
 * PostgreSQL's CPU (every `postgres` process on the machine) is reported in a column of its own and
 * kept out of "others".
 *
 * A setup that fails (does not start, answers the token request wrongly) is reported as failed and
 * the others still run; non-2xx answers under load are counted, not thrown: they are findings.
 */
import { randomBytes } from 'node:crypto';
import { seedRefreshTokens } from './browserless.js';
import { benchDatabaseUrl, createSchema, postgresUnreachable, redactUrl } from './bench-postgres.js';
import { prepareDelegated } from './delegated.js';
import { LIMITS_OFF, startGrantor } from './grantor-server.js';
import { runFigures } from './load-runs.js';
import { cleaningUp, groupCpuMeter, pidsByComm, sleep } from './procs.js';

/** @typedef {{ key: 'sqlite1' | 'postgres1' | 'sqlite2' | 'postgres2', label: string, db: 'sqlite' | 'postgres', workers: number, refresh?: boolean }} ScaleOutSetup */

/** @type {ScaleOutSetup[]} */
export const SETUPS = [
  { key: 'sqlite1', label: 'SQLite, 1 process', db: 'sqlite', workers: 1 },
  { key: 'postgres1', label: 'PostgreSQL, 1 process', db: 'postgres', workers: 1, refresh: true },
  { key: 'sqlite2', label: 'SQLite, WORKERS=2', db: 'sqlite', workers: 2 },
  { key: 'postgres2', label: 'PostgreSQL, WORKERS=2', db: 'postgres', workers: 2 },
];

const firstLine = (/** @type {any} */ err) => String(err?.message ?? err).split('\n')[0].slice(0, 300);

/**
 * @typedef {Awaited<ReturnType<typeof measure>>} GroupRun
 * @typedef {{ setup: ScaleOutSetup, skipped: string }} SkippedRun
 * @typedef {{ setup: ScaleOutSetup, error: string, schemaDropError?: string }} FailedRun
 * @typedef {GroupRun & { setup: ScaleOutSetup, startSeconds: number, warmup: { requests: number, non2xx: number, errors: number }, schemaDropError?: string }} ScaleOutRun
 * @typedef {Awaited<ReturnType<typeof measureRefresh>>} ScaleOutRefresh
 */

/**
 * @param {{ loader: import('./types.js').LoadGenerator, scripted: import('./types.js').ScriptedLoadGenerator, connections: number,
 *   seconds: number, warmupSeconds: number, warmupConnections: number, refreshSeed: number,
 *   tokenRequest: (target: import('./types.js').BenchTarget, path: string) => import('./types.js').LoadOptions,
 *   verifyIssuance: (target: import('./types.js').BenchTarget, req: import('./types.js').LoadOptions) => Promise<unknown>,
 *   introspect: typeof import('./load-runs.js').introspect, log: (msg: string) => void }} o
 */
export async function measureScaleOut({ loader, scripted, connections, seconds, warmupSeconds, warmupConnections, refreshSeed, tokenRequest, verifyIssuance, introspect, log }) {
  const pg = benchDatabaseUrl();
  const unreachable = await postgresUnreachable(pg.url);
  const postgres = { url: redactUrl(pg.url), from: pg.from, reachable: !unreachable, reason: unreachable };
  if (unreachable) {
    log('  skipped: no PostgreSQL (set BENCH_DATABASE_URL)');
    log(`    (${postgres.url}: ${unreachable})`);
  }
  const keyEncryptionSecret = randomBytes(24).toString('base64url');
  /** @type {Partial<Record<ScaleOutSetup['key'], SkippedRun | FailedRun | ScaleOutRun>>} */
  const runs = {};
  /** @type {ScaleOutRefresh | { skipped: string } | { error: string } | null} */
  let refresh = null;

  for (const setup of SETUPS) {
    if (setup.db === 'postgres' && unreachable) {
      runs[setup.key] = { setup, skipped: 'no PostgreSQL' };
      if (setup.refresh) refresh = { skipped: 'no PostgreSQL' };
      continue;
    }
    if (cleaningUp()) throw new Error('interrupted');
    let server;
    let schema;
    try {
      // Rate limits off: the refresh run drives one public client far past the per-client limit
      // (the limiter's cost is measured on its own, bench/edge-costs.js); the access log is on.
      /** @type {Record<string, string>} */
      const env = { KEY_ENCRYPTION_SECRET: keyEncryptionSecret, ...LIMITS_OFF };
      if (setup.workers > 1) env.WORKERS = String(setup.workers);
      if (setup.db === 'postgres') {
        schema = await createSchema(pg.url);
        env.DATABASE_URL = schema.url;
      }
      const t0 = performance.now();
      server = await startGrantor({ env });
      const startSeconds = (performance.now() - t0) / 1000;
      const name = `${setup.label}`;
      const req = tokenRequest(server, '/oauth/token');
      await verifyIssuance(server, req);
      log(`  ${name}: ready in ${startSeconds.toFixed(1)} s (${server.pids().length} process(es)${schema ? `, schema ${schema.schema}` : ''}); warm-up ${warmupSeconds} s`);
      const warm = await loader.run({ ...req, connections: warmupConnections, duration: warmupSeconds });
      const run = await measure(server, name, loader.pid, 'POST /oauth/token client_credentials', connections, seconds, () => loader.run({ ...req, connections, duration: seconds }), log);
      runs[setup.key] = { setup, ...run, startSeconds, warmup: { requests: warm.total, non2xx: warm.non2xx, errors: warm.errors } };
      if (setup.refresh) {
        try {
          refresh = await measureRefresh({ setup, server, name, scripted, connections, seconds, warmupSeconds, warmupConnections, refreshSeed, introspect, log });
        } catch (/** @type {any} */ err) {
          if (cleaningUp()) throw err;
          log(`  ${name}: refresh grant FAILED: ${err?.message ?? err}`);
          refresh = { error: firstLine(err) };
        }
      }
    } catch (/** @type {any} */ err) {
      if (cleaningUp()) throw err;
      log(`  ${setup.label}: FAILED: ${err?.message ?? err}`);
      runs[setup.key] = { setup, error: firstLine(err) };
    } finally {
      if (server) await server.stop();
      if (schema) {
        try {
          await schema.drop();
        } catch (/** @type {any} */ err) {
          log(`  ${setup.label}: dropping schema ${schema.schema} failed: ${err?.message ?? err}`);
          const r = runs[setup.key];
          if (r && !('skipped' in r)) r.schemaDropError = firstLine(err);
        }
      }
    }
  }

  const rps = (/** @type {ScaleOutSetup['key']} */ k) => {
    const r = runs[k];
    return r && 'rps' in r && r.rps > 0 ? r.rps : null;
  };
  const ratio = (/** @type {ScaleOutSetup['key']} */ a, /** @type {ScaleOutSetup['key']} */ b) => {
    const [x, y] = [rps(a), rps(b)];
    return x && y ? x / y : null;
  };
  return {
    postgres,
    connections,
    seconds,
    runs,
    refresh,
    ratios: {
      postgresOverSqlite1Process: ratio('postgres1', 'sqlite1'),
      postgresOverSqliteWorkers2: ratio('postgres2', 'sqlite2'),
      workers2Over1Sqlite: ratio('sqlite2', 'sqlite1'),
      workers2Over1Postgres: ratio('postgres2', 'postgres1'),
    },
  };
}

/**
 * @param {{ setup: ScaleOutSetup, server: import('./types.js').GrantorServer, name: string, scripted: import('./types.js').ScriptedLoadGenerator,
 *   connections: number, seconds: number, warmupSeconds: number, warmupConnections: number, refreshSeed: number,
 *   introspect: typeof import('./load-runs.js').introspect, log: (msg: string) => void }} o
 */
async function measureRefresh({ setup, server, name, scripted, connections, seconds, warmupSeconds, warmupConnections, refreshSeed, introspect, log }) {
  const delegated = await prepareDelegated(server);
  const seed = await seedRefreshTokens({ person: delegated.person, username: delegated.username, password: delegated.password, count: refreshSeed });
  if (new Set(seed.tokens).size !== refreshSeed) throw new Error(`seeding gave ${new Set(seed.tokens).size} distinct refresh tokens, not ${refreshSeed}`);
  log(`  ${name}: seeded ${seed.tokens.length} refresh tokens through the code flow in ${seed.seconds.toFixed(1)} s; refresh warm-up ${warmupSeconds} s`);
  await scripted.setPool(seed.tokens);
  const refreshReq = {
    url: `${server.url}/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    clientId: delegated.app.client_id,
  };
  const warm = await scripted.run('refresh', { ...refreshReq, connections: warmupConnections, duration: warmupSeconds });
  const run = await measure(server, name, scripted.pid, 'POST /oauth/token grant_type=refresh_token', connections, seconds, () => scripted.run('refresh', { ...refreshReq, connections, duration: seconds }), log);
  const pooled = await scripted.peekPool();
  const chainCheck = { poolLeft: pooled.pool, ...(pooled.sample ? await introspect(server.url, delegated.rs, pooled.sample) : { active: false }) };
  return {
    setup,
    ...run,
    script: run.script ?? { ok: 0, bad: 0 },
    seeded: seed.tokens.length,
    seedSeconds: seed.seconds,
    warmup: { requests: warm.total, non2xx: warm.non2xx, errors: warm.errors, failedRotations: warm.script?.bad },
    chainCheck: { poolLeft: chainCheck.poolLeft, active: chainCheck.active === true },
  };
}

/**
 * One load run with CPU accounting over the whole server (primary + workers), PostgreSQL and the load generator.
 * @param {import('./types.js').GrantorServer} server
 * @param {string} name
 * @param {number | undefined} loadgenPid
 * @param {string} label
 * @param {number} connections
 * @param {number} seconds
 * @param {() => Promise<import('./types.js').LoadResult>} go
 * @param {(msg: string) => void} log
 */
async function measure(server, name, loadgenPid, label, connections, seconds, go, log) {
  log(`  ${name}: ${label} c=${connections} for ${seconds} s`);
  const meter = groupCpuMeter({ server: server.pids, postgres: () => pidsByComm('postgres'), loadgen: () => [loadgenPid] });
  const r = await go();
  const cpu = meter.end();
  if (r.total === 0) throw new Error(`${name}: ${label}: no answers at all (${r.errors} errors, ${r.timeouts} timeouts)`);
  await sleep(300); // let closed sockets and GC settle between runs
  const procs = cpu.server?.processes ?? [];
  const servingProcs = server.workers > 1 ? procs.filter((p) => p.pid !== server.pid) : procs;
  const loops = servingProcs.map((p) => p.mainThreadPctOfOneCore).filter((v) => v !== undefined);
  return {
    ...runFigures(r, connections),
    cpu: {
      serverPctOfOneCore: cpu.server?.pctOfOneCore,
      serverPrimaryPctOfOneCore: server.workers > 1 ? procs.find((p) => p.pid === server.pid)?.pctOfOneCore : undefined,
      serverWorkersPctOfOneCore: server.workers > 1 ? servingProcs.map((p) => p.pctOfOneCore) : undefined,
      // The busiest event loop among the serving processes (the one process, or the workers).
      serverLoopPctOfOneCore: loops.length ? Math.max(...loops) : undefined,
      serverMsPerRequest: cpu.server ? (cpu.server.cpuSeconds * 1000) / r.total : undefined,
      serverProcesses: procs.length,
      serverProcessesGone: cpu.server?.gone.length ?? 0,
      postgresPctOfOneCore: cpu.postgres?.pctOfOneCore,
      loadgenPctOfOneCore: cpu.loadgen?.pctOfOneCore,
      machineBusyPct: cpu.machineBusyPct,
      othersPctOfOneCore: cpu.othersPctOfOneCore,
    },
  };
}

// @ts-check
/**
 * `node bench/refresh-ratio.js` (after `npm run build`): the refresh grant against client_credentials
 * on one database, back to back in one run — the ratio npm run bench reports, in a minute instead of
 * a quarter of an hour, for working on the refresh path. Not part of npm run bench.
 *
 * client_credentials as in phase 2 (default settings, rate limits on, LOAD_CLIENTS clients); refresh
 * as in phase 4 (rate limits off: one public client's chains). Per run: requests/s, p50/p99 and
 * server CPU per request.
 *
 * env: DATABASE_URL=postgres://… runs both servers on PostgreSQL (a fresh schema each), else SQLite;
 *      BENCH_SECONDS (default 5), BENCH_REFRESH_CONNECTIONS (default 10,50), BENCH_CPU_PROF=<dir>
 *      (the refresh server under --cpu-prof), WORKERS (both servers).
 */
import path from 'node:path';
import { seedRefreshTokens } from './browserless.js';
import { createSchema } from './bench-postgres.js';
import { prepareDelegated } from './delegated.js';
import { LIMITS_OFF, startGrantor } from './grantor-server.js';
import { startLoadGenerator } from './load.js';
import { cleanupAll, cpuMeter, sleep } from './procs.js';
import { startScriptedLoadGenerator } from './scripted-load.js';
import { list, num } from './env.js';

const SECONDS = num('BENCH_SECONDS', 5);
const CONNECTIONS = list('BENCH_REFRESH_CONNECTIONS', [10, 50]);
const PG = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined;
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
const log = (/** @type {string} */ m) => process.stderr.write(`${m}\n`);

async function dbEnv() {
  /** @type {Record<string, string>} */
  const env = {};
  if (process.env.WORKERS) env.WORKERS = process.env.WORKERS;
  if (PG) env.DATABASE_URL = (await createSchema(PG)).url;
  return env;
}

async function measure(/** @type {any} */ server, /** @type {number | undefined} */ loadgenPid, /** @type {string} */ label, /** @type {() => Promise<any>} */ go) {
  const meter = cpuMeter({ server: server.pid, loadgen: loadgenPid });
  const r = await go();
  const cpu = meter.end();
  await sleep(300);
  const row = {
    label,
    rps: Math.round(r.rps),
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuMsPerReq: cpu.server ? +((cpu.server.cpuSeconds * 1000) / r.total).toFixed(3) : undefined,
    non2xx: r.non2xx,
    bad: r.script?.bad,
    starved: r.script?.starved,
    others: cpu.othersPctOfOneCore && Math.round(cpu.othersPctOfOneCore),
  };
  log(JSON.stringify(row));
  return row;
}

async function main() {
  const loader = await startLoadGenerator();
  const scripted = await startScriptedLoadGenerator();
  const cc = await startGrantor({ env: await dbEnv(), clients: 256 });
  const credentials = cc.credentials;
  const ccReq = {
    rotate: { authorizations: credentials.map((c) => `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`), forwardedFor: credentials.map((_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`) },
    url: `${cc.url}/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${cc.clientId}:${cc.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: cc.resource, scope: cc.scope }).toString(),
  };
  await loader.run({ ...ccReq, connections: 10, duration: 2 });
  const rows = [];
  for (const c of CONNECTIONS) rows.push(await measure(cc, loader.pid, `cc c=${c}`, () => loader.run({ ...ccReq, connections: c, duration: SECONDS })));
  await cc.stop();

  const rt = await startGrantor({ env: { ...LIMITS_OFF, ...(await dbEnv()) }, cpuProfDir: CPU_PROF_DIR });
  const delegated = await prepareDelegated(rt);
  const count = 10 + CONNECTIONS.reduce((a, b) => a + b, 0) + Math.max(...CONNECTIONS) + 20;
  const seed = await seedRefreshTokens({ person: delegated.person, username: delegated.username, password: delegated.password, count });
  await scripted.setPool(seed.tokens);
  const rReq = { url: `${rt.url}/oauth/token`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, clientId: delegated.app.client_id };
  await scripted.run('refresh', { ...rReq, connections: 10, duration: 2 });
  for (const c of CONNECTIONS) rows.push(await measure(rt, scripted.pid, `refresh c=${c}`, () => scripted.run('refresh', { ...rReq, connections: c, duration: SECONDS })));
  await rt.stop();
  for (const c of CONNECTIONS) {
    const a = rows.find((r) => r.label === `refresh c=${c}`);
    const b = rows.find((r) => r.label === `cc c=${c}`);
    if (a && b) log(`refresh/cc c=${c}: ${(a.rps / b.rps).toFixed(2)} (cpu/req ${a.cpuMsPerReq} vs ${b.cpuMsPerReq} ms)`);
  }
  console.log(`REFRESH_RATIO ${JSON.stringify(rows)}`);
}

main().then(cleanupAll, async (err) => { log(err.stack ?? String(err)); await cleanupAll(); process.exit(1); });

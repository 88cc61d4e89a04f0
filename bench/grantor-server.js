// @ts-check
/**
 * Grantor under test: the built server (`node dist/src/main.js`) as a child process on a free
 * loopback port, with a fresh SQLite database and key folder in a temp dir, in the configuration
 * operators run (issue #14 item 1): Grantor's defaults — the access log at `info` (read from the
 * child's stdout), rate limits on (RATE_LIMIT_CLIENT 1200/min, RATE_LIMIT_ADDRESS 6000/min) —
 * behind a trusted proxy (TRUST_PROXY=127.0.0.1: the load generator stands in for a reverse proxy
 * forwarding many users, each request naming its own address in X-Forwarded-For). A row that runs
 * otherwise passes `env` (QUIET_LOG, LIMITS_OFF) and says so.
 * One resource and one confidential client are registered first with the CLI, through the same
 * environment, with the commands an operator would type (run in the bench process through the
 * CLI's own entry, runCli, which bin/grantor.js calls: a node process per command took most of a
 * server's set-up time); `clients: n` registers n - 1 more through the admin API, so that a load
 * spread over them stays within the per-client limit.
 *
 * Ready when GET /readyz answers 200 (database and signing key). With WORKERS=N > 1 (node:cluster)
 * that only says one worker listens: the primary shares the port as soon as the first one does.
 * The "Grantor listening" lines are at info, below LOG_LEVEL=warn (and info would log every
 * request), so readiness then also waits until N distinct workers have answered: see
 * waitForWorkers. The workers' pids are tracked (procs.js) so that none outlives the bench.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { childPids, freePort, makeTempDir, sleep, stopChild, stopTrackedPid, tail, trackChild, trackPid, waitForHttp } from './procs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

export const BENCH_RESOURCE = 'https://api.bench.example';
export const BENCH_SCOPE = 'read';
/** A row measured with the access log off (below `warn`), everything else as operators run it. */
export const QUIET_LOG = { LOG_LEVEL: 'warn' };
/** A row measured without rate limits. */
export const LIMITS_OFF = { RATE_LIMIT_CLIENT: '0', RATE_LIMIT_ADDRESS: '0' };
/** Confidential clients for a client_credentials load under the default limits: see clientsFor(). */
export const LOAD_CLIENTS = Number(process.env.BENCH_LOAD_CLIENTS) || (process.env.BENCH_SMOKE === '1' ? 16 : 256);

/**
 * The environment of a server under test on a free loopback port, its issuer there, with a fresh
 * SQLite database and key folder in a temp dir of its own (removed by cleanupAll()); `extra` over it.
 * @param {string} prefix the temp dir's
 * @param {Record<string, string>} extra
 * @returns {Promise<{ port: number, env: NodeJS.ProcessEnv }>}
 */
export async function freshServerEnv(prefix, extra) {
  const dir = makeTempDir(prefix);
  const port = await freePort();
  return {
    port,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: `http://127.0.0.1:${port}`,
      DATABASE_URL: `sqlite:${path.join(dir, 'g.sqlite')}`,
      KEYS_DIR: path.join(dir, 'keys'),
      ...extra,
    },
  };
}

/**
 * `env`: extra environment for the server and its CLI (e.g. STATUS_LIST_TTL). The answer's `cli(args, {input})`
 * runs bin/grantor.js against the same database (input goes to its stdin, e.g. a password) and parses its JSON.
 */
/**
 * @param {{ cpuProfDir?: string, env?: Record<string, string>, clients?: number }} [opts]
 */
export async function startGrantor({ cpuProfDir, env: extraEnv = {}, clients = 1 } = {}) {
  const main = path.join(ROOT, 'dist/src/main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm run bench does)`);
  const { port, env } = await freshServerEnv('grantor-bench-', { TRUST_PROXY: '127.0.0.1', ...extraEnv });

  /** @type {(...args: Array<string | { input?: string }>) => Promise<any>} */
  const cli = async (...args) => {
    const last = args.at(-1);
    const input = typeof last === 'object' ? (args.pop(), last.input) : undefined;
    const argv = /** @type {string[]} */ (args);
    try {
      return JSON.parse(input === undefined ? await cliInProcess(argv, env) : await cliProcess(argv, env, input));
    } catch (/** @type {any} */ err) {
      throw new Error(`grantor ${argv.slice(0, 2).join(' ')} failed: ${err.stderr || err.message}`);
    }
  };
  await cli('resources', 'create', '--identifier', BENCH_RESOURCE, '--name', 'Bench API', '--scope', `${BENCH_SCOPE}=read things`, '--json');
  const client = await cli('clients', 'create', '--name', 'bench', '--grant-types', 'client_credentials', '--scopes', BENCH_SCOPE, '--json');
  if (!client.client_id || !client.client_secret) throw new Error(`clients create returned no credentials: ${JSON.stringify(client)}`);

  const nodeArgs = [];
  if (cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const child = trackChild(spawn(process.execPath, [...nodeArgs, main], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }), 'grantor');
  // The access log is at info: keep the tail of everything else for a failure's report.
  const out = tail(child.stdout, 40, '"msg":"request"');
  const err = tail(child.stderr);
  const url = `http://127.0.0.1:${port}`;
  const workers = Number(env.WORKERS ?? 1) > 1 ? Number(env.WORKERS) : 0; // 0: no cluster, the child serves
  const workerPids = new Set();
  try {
    await waitForHttp(`${url}/readyz`, child, 30_000);
    if (workers) {
      await waitForWorkers(url, workers, child);
      const pids = childPids(child.pid);
      for (const pid of pids) {
        trackPid(pid, 'grantor worker');
        workerPids.add(pid);
      }
      if (pids.length !== workers) throw new Error(`WORKERS=${workers}, but the primary (pid ${child.pid}) has ${pids.length} child processes`);
    }
  } catch (/** @type {any} */ e) {
    await stopChild(child, 5000);
    await Promise.all([...workerPids].map((pid) => stopTrackedPid(pid)));
    throw new Error(`${e.message}\n--- grantor stdout ---\n${out()}\n--- grantor stderr ---\n${err()}`);
  }
  const credentials = [{ clientId: client.client_id, clientSecret: client.client_secret }];
  if (clients > 1) credentials.push(...(await registerClients(url, cli, clients - 1)));
  return {
    name: workers ? `grantor (WORKERS=${workers})` : 'grantor',
    /** Every confidential client_credentials client registered (the first is clientId/clientSecret). */
    credentials,
    url,
    pid: child.pid,
    workers: workers || 1,
    /** Every process of this server now: the primary and its workers (or the one process). */
    pids: () => (workers ? [child.pid, ...childPids(child.pid)] : [child.pid]),
    clientId: client.client_id,
    clientSecret: client.client_secret,
    resource: BENCH_RESOURCE,
    scope: BENCH_SCOPE,
    cli: (/** @type {string[]} */ args, /** @type {{ input?: string }} */ opts = {}) => cli(...args, opts),
    logs: () => `--- grantor stdout ---\n${out()}\n--- grantor stderr ---\n${err()}`,
    // The primary forwards SIGTERM to its workers and exits once they have; any worker still
    // there afterwards (a primary killed hard) is stopped by its pid.
    stop: async () => {
      await stopChild(child, 12_000);
      await Promise.all([...workerPids].map((pid) => stopTrackedPid(pid)));
    },
  };
}

/**
 * `grantor <argv>` as its own process (bin/grantor.js), `input` on its stdin (a password): resolves to its stdout.
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @param {string} input
 */
async function cliProcess(argv, env, input) {
  const pending = run(process.execPath, [path.join(ROOT, 'bin/grantor.js'), ...argv], { env, cwd: ROOT });
  pending.child.stdin?.end(input);
  return (await pending).stdout;
}

/**
 * `grantor <argv>` without stdin, in this process: the CLI's own entry (runCli of dist/src/cli/main.js,
 * which bin/grantor.js calls) with the server's environment; resolves to what it printed. The same
 * commands as an operator's, without a node start-up each (most of a fresh server's set-up time).
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 */
async function cliInProcess(argv, env) {
  const { runCli } = await import(pathToFileURL(path.join(ROOT, 'dist/src/cli/main.js')).href);
  /** @type {string[]} */
  const out = [];
  /** @type {string[]} */
  const err = [];
  const code = await runCli(argv, env, { out: (/** @type {string} */ t) => out.push(t), err: (/** @type {string} */ t) => err.push(t) });
  if (code !== 0) throw Object.assign(new Error(`exit code ${code}`), { stderr: err.join('\n') });
  return out.join('\n');
}

/** One GET on a connection of its own (a keep-alive connection would stay on one worker). */
/**
 * @param {string} url
 * @returns {Promise<{ status: number | undefined, body: string }>}
 */
function getFresh(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Waits until `n` distinct workers answer. Each worker counts the GET /metrics it served in its own
 * registry (grantor_http_request_duration_seconds_count{route="/metrics"}), and a scrape shows the
 * count before itself: one worker answering sequential scrapes shows 0, 1, 2… never the same value
 * twice. So a value seen k times means at least k distinct workers answered. New connections each
 * time: the primary hands connections to the listening workers round-robin.
 */
/**
 * @param {string} url
 * @param {number} n
 * @param {import('node:child_process').ChildProcess} child
 */
async function waitForWorkers(url, n, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map(); // count → times seen
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`grantor exited (code ${child.exitCode}, signal ${child.signalCode}) before ${n} workers answered`);
    try {
      const res = await getFresh(`${url}/metrics`);
      if (res.status === 200) {
        const m = /^grantor_http_request_duration_seconds_count\{[^}]*route="\/metrics"[^}]*\}\s+(\d+)/m.exec(res.body);
        const count = m ? Number(m[1]) : 0;
        seen.set(count, (seen.get(count) ?? 0) + 1);
        if (Math.max(...seen.values()) >= n) return;
        last = `scrape counts so far ${JSON.stringify([...seen])}`;
      } else {
        last = `HTTP ${res.status}`;
      }
    } catch (/** @type {any} */ e) {
      last = e.message;
    }
    await sleep(20);
  }
  throw new Error(`${url}: ${n} workers did not all answer within ${timeoutMs} ms (${last})`);
}

/**
 * `n` more client_credentials clients for the bench scope, through the admin API (one CLI-made admin
 * client, one token, then parallel POST /admin/clients: a CLI process per client would take minutes).
 */
/**
 * @param {string} url
 * @param {(...args: string[]) => Promise<any>} cli
 * @param {number} n
 * @returns {Promise<Array<{ clientId: string, clientSecret: string }>>}
 */
async function registerClients(url, cli, n) {
  const admin = await cli('clients', 'create', '--name', 'bench admin', '--grant-types', 'client_credentials', '--scopes', 'admin', '--json');
  const basic = Buffer.from(`${encodeURIComponent(admin.client_id)}:${encodeURIComponent(admin.client_secret)}`).toString('base64');
  const tokenRes = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=admin',
  });
  if (tokenRes.status !== 200) throw new Error(`admin token: HTTP ${tokenRes.status} ${await tokenRes.text()}`);
  const { access_token: adminToken } = await tokenRes.json();
  const made = [];
  for (let i = 0; i < n; i += 16) {
    const batch = Array.from({ length: Math.min(16, n - i) }, async (_, j) => {
      const res = await fetch(`${url}/admin/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench ${i + j + 2}`, grant_types: ['client_credentials'], scopes: [BENCH_SCOPE] }),
      });
      const body = await res.json();
      if (res.status !== 201 && res.status !== 200) throw new Error(`POST /admin/clients: HTTP ${res.status} ${JSON.stringify(body)}`);
      return { clientId: body.client_id, clientSecret: body.client_secret };
    });
    made.push(...(await Promise.all(batch)));
  }
  return made;
}

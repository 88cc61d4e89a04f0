// @ts-check
/**
 * Grantor as issue #14 was filed: the baseline of its item 4, "introspection ≥ 4× today's rate,
 * and the JWKS, metadata and status list answered from prepared bytes at ≥ 3× today's rate, each
 * measured side by side in the same run". Today's rate is that of main when the issue was written
 * (AS_FILED_COMMIT, the last commit before the work began: its README's bench figures are
 * the issue's, its JWKS, metadata and status list answered through koa from a document serialised
 * per request, its introspection through koa's whole chain). Phases 3 and 5 measure it beside
 * today's server, back to back, under the same load.
 *
 * It is built from this checkout's git history once per machine (`git archive` of the commit into
 * a temp directory, this checkout's node_modules linked in, its TypeScript stripped of types by
 * @swc/core as jest does: ~0.5 s of CPU where `tsc` took 6 s of the smoke run's) and started as it was
 * run then: its defaults (access log at info, rate limits on), TRUST_PROXY=true (its form of "the
 * load generator is our proxy"), a fresh SQLite database. Without the history (a shallow clone)
 * or when the build fails, the rows are skipped and the reason printed: nothing else depends on it.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BENCH_RESOURCE, BENCH_SCOPE, freshServerEnv } from './grantor-server.js';
import { stopChild, tail, trackChild, waitForHttp } from './procs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** main on 2026-11-24 20:01 UTC, when issue #14 was filed (`git show 02a65a7`). */
export const AS_FILED_COMMIT = '02a65a772db7e3d11a44e798d511078f1ee52bbc';

/** @type {Promise<{ dir: string } | { skipped: string }> | undefined} */
let built;

/**
 * The built tree of AS_FILED_COMMIT (its dist/ beside its bin/), or why there is none. Built once
 * per machine and once per bench process: the smoke run's lanes share the one promise; two
 * benches at once each build into a directory of their own and the first to finish keeps its own.
 * @returns {Promise<{ dir: string } | { skipped: string }>}
 */
export function buildAsFiled() {
  built ??= build().catch((/** @type {any} */ err) => ({ skipped: `could not build ${AS_FILED_COMMIT.slice(0, 7)}: ${String(err.stderr || err.message).trim().split('\n')[0]}` }));
  return built;
}

/** @returns {Promise<{ dir: string } | { skipped: string }>} */
async function build() {
  const dir = path.join(os.tmpdir(), `grantor-bench-as-filed-${AS_FILED_COMMIT.slice(0, 12)}`);
  if (fs.existsSync(path.join(dir, 'dist/src/main.js'))) return { dir };
  try {
    await run('git', ['-C', ROOT, 'cat-file', '-e', `${AS_FILED_COMMIT}^{commit}`]);
  } catch {
    return { skipped: `this checkout has no commit ${AS_FILED_COMMIT.slice(0, 7)} (a shallow clone?): the code as issue #14 was filed is not measured` };
  }
  const staging = `${dir}.${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    await run('sh', ['-c', 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', 'sh', ROOT, AS_FILED_COMMIT, staging]);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(staging, 'node_modules'), 'dir');
    await transpile(staging);
    try {
      fs.renameSync(staging, dir);
    } catch {
      // Another bench built it meanwhile: use its tree, drop ours.
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return { dir };
}

/**
 * `dir`/src and `dir`/db compiled into `dir`/dist as `tsc -p tsconfig.build.json` lays them out
 * (bin/grantor.js imports dist/src/cli/main.js): each .ts file's types stripped, its ES modules kept.
 * @param {string} dir
 */
async function transpile(dir) {
  const { transformFile } = await import('@swc/core');
  const sources = ['src', 'db'].flatMap((top) =>
    fs.readdirSync(path.join(dir, top), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => path.join(top, f)),
  );
  for (const file of sources) {
    const { code } = await transformFile(path.join(dir, file), { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' }, sourceMaps: false, swcrc: false });
    const out = path.join(dir, 'dist', file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, code);
  }
}

/**
 * The server as filed on a free loopback port, with `env` over its defaults. With `introspection`,
 * the bench's resource and client and a resource server allowed to introspect (`introspect` in its
 * scopes) are registered first with its own CLI, as phase 5 registers them on today's server.
 * @param {{ dir: string, env?: Record<string, string>, introspection?: boolean }} o
 * @returns {Promise<import('./types.js').BenchTarget & { rs?: { client_id: string, client_secret: string } }>}
 */
export async function startAsFiled({ dir, env: extraEnv = {}, introspection = false }) {
  const { port, env } = await freshServerEnv('grantor-bench-as-filed-data-', { TRUST_PROXY: 'true', ...extraEnv });
  const cli = async (/** @type {string[]} */ args) => {
    const { stdout } = await run(process.execPath, [path.join(dir, 'bin/grantor.js'), ...args, '--json'], { env, cwd: dir });
    return JSON.parse(stdout);
  };
  let client = { client_id: '', client_secret: '' };
  let rs;
  if (introspection) {
    await cli(['resources', 'create', '--identifier', BENCH_RESOURCE, '--name', 'Bench API', '--scope', `${BENCH_SCOPE}=read things`]);
    client = await cli(['clients', 'create', '--name', 'bench', '--grant-types', 'client_credentials', '--scopes', BENCH_SCOPE]);
    rs = await cli(['clients', 'create', '--name', 'Bench API (introspection)', '--scopes', 'introspect']);
  }
  const child = trackChild(spawn(process.execPath, [path.join(dir, 'dist/src/main.js')], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), 'grantor as filed');
  const out = tail(child.stdout, 40, '"msg":"request"');
  const err = tail(child.stderr);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, child, 30_000);
  } catch (/** @type {any} */ e) {
    await stopChild(child, 5000);
    throw new Error(`${e.message}\n--- grantor as filed, stdout ---\n${out()}\n--- stderr ---\n${err()}`);
  }
  return {
    name: `grantor as filed (${AS_FILED_COMMIT.slice(0, 7)})`,
    url,
    pid: child.pid,
    clientId: client.client_id,
    clientSecret: client.client_secret,
    resource: BENCH_RESOURCE,
    scope: BENCH_SCOPE,
    rs,
    logs: () => `--- grantor as filed, stdout ---\n${out()}\n--- stderr ---\n${err()}`,
    stop: () => stopChild(child),
  };
}

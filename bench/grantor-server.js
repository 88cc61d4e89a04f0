/**
 * Grantor under test: the built server (`node dist/src/main.js`) as a child process on a free
 * loopback port, with a fresh SQLite database and key folder in a temp dir, LOG_LEVEL=warn.
 * One resource and one confidential client are registered first with the CLI (bin/grantor.js),
 * through the same environment, exactly as an operator would.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, makeTempDir, stopChild, tail, trackChild, waitForHttp } from './procs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

export const BENCH_RESOURCE = 'https://api.bench.example';
export const BENCH_SCOPE = 'read';

/**
 * `env`: extra environment for the server and its CLI (e.g. STATUS_LIST_TTL). The answer's `cli(args, {input})`
 * runs bin/grantor.js against the same database (input goes to its stdin, e.g. a password) and parses its JSON.
 */
export async function startGrantor({ cpuProfDir, env: extraEnv = {} } = {}) {
  const main = path.join(ROOT, 'dist/src/main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm run bench does)`);
  const dir = makeTempDir('grantor-bench-');
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: `sqlite:${path.join(dir, 'g.sqlite')}`,
    KEYS_DIR: path.join(dir, 'keys'),
    LOG_LEVEL: 'warn',
    // The load comes from one client and one address: measure issuance, not the rate limiter.
    RATE_LIMIT_CLIENT: '0',
    RATE_LIMIT_ADDRESS: '0',
    ...extraEnv,
  };

  const cli = async (...args) => {
    const input = typeof args.at(-1) === 'object' ? args.pop().input : undefined;
    try {
      const pending = run(process.execPath, [path.join(ROOT, 'bin/grantor.js'), ...args], { env, cwd: ROOT });
      pending.child.stdin.end(input ?? '');
      const { stdout } = await pending;
      return JSON.parse(stdout);
    } catch (err) {
      throw new Error(`grantor ${args.slice(0, 2).join(' ')} failed: ${err.stderr || err.message}`);
    }
  };
  await cli('resources', 'create', '--identifier', BENCH_RESOURCE, '--name', 'Bench API', '--scope', `${BENCH_SCOPE}=read things`, '--json');
  const client = await cli('clients', 'create', '--name', 'bench', '--grant-types', 'client_credentials', '--scopes', BENCH_SCOPE, '--json');
  if (!client.client_id || !client.client_secret) throw new Error(`clients create returned no credentials: ${JSON.stringify(client)}`);

  const nodeArgs = [];
  if (cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const child = trackChild(spawn(process.execPath, [...nodeArgs, main], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }), 'grantor');
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, child);
  } catch (e) {
    throw new Error(`${e.message}\n--- grantor stdout ---\n${out()}\n--- grantor stderr ---\n${err()}`);
  }
  return {
    name: 'grantor',
    url,
    pid: child.pid,
    clientId: client.client_id,
    clientSecret: client.client_secret,
    resource: BENCH_RESOURCE,
    scope: BENCH_SCOPE,
    cli: (args, opts = {}) => cli(...args, opts),
    logs: () => `--- grantor stdout ---\n${out()}\n--- grantor stderr ---\n${err()}`,
    stop: () => stopChild(child, 12_000),
  };
}

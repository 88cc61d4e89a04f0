/**
 * What the fuzz properties (test/fuzz/) run against and check:
 * - two servers on one Grantor (one set of deps, one database): the server's own request
 *   listener (the lean routes, then koa) and koa alone, so the same bytes reach both paths;
 * - a snapshot of every stored row, to prove a refused request changed nothing;
 * - the answer checks: never a 5xx, never a stack trace, the two paths alike;
 * - the run parameters: a fixed seed and a few hundred runs in CI, `npm run fuzz` for long runs.
 */
import http from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Parameters } from 'fast-check';
import { createApp } from '../../src/app.js';
import { fixedClock } from '../../src/lib/clock.js';
import { describeRequest, sendBytes, toBytes, type FuzzAnswer, type FuzzRequest } from './fuzz-http.js';
import { startTestApp, type TestApp } from './test-app.js';

// ---- run parameters ----

/** The CI seed: fixed, so a failure in CI is the same failure on any machine. */
const CI_SEED = 20_250_610;

/**
 * fast-check parameters for a property: `ciRuns` runs with the fixed seed, or, under `npm run fuzz`
 * (FUZZ_RUNS set), that many runs with FUZZ_SEED or a random seed. fast-check prints the seed and
 * the path of a failure; `FUZZ_SEED=<seed> FUZZ_PATH=<path>` replays exactly that case.
 */
export function fuzzParameters<T>(ciRuns: number): Parameters<T> {
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : undefined;
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : runs ? Math.floor(Math.random() * 2 ** 31) : CI_SEED;
  return {
    seed,
    numRuns: runs ?? ciRuns,
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
    // Shrinking replays requests; bound it so a failure is reported in reasonable time.
    interruptAfterTimeLimit: runs ? undefined : 120_000,
    markInterruptAsFailure: false,
  };
}

/** A jest timeout for a property of `ciRuns` runs (generous: 2 cores shared by several suites). */
export function fuzzTimeout(ciRuns: number): number {
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : ciRuns;
  return 180_000 + runs * 200;
}

// ---- the two paths ----

export interface FuzzTarget {
  app: TestApp;
  /** `host:port` of the server's own listener; every request names it in Host, whichever server gets it. */
  host: string;
  /** Sends the same bytes to the full listener (lean routes, then koa), then to koa alone. */
  both(req: FuzzRequest): Promise<{ listener: FuzzAnswer; koa: FuzzAnswer }>;
  /** Sends the bytes to the full listener only. */
  listener(req: FuzzRequest): Promise<FuzzAnswer>;
  /** Sends the bytes to koa alone. */
  koa(req: FuzzRequest): Promise<FuzzAnswer>;
  close(): Promise<void>;
}

/**
 * A test app on a frozen clock (the fuzz sees one instant, so an answer depends on the stored
 * state only: a refresh token presented again always falls in the concurrent-duplicate second and
 * gets the same successor, never a grant revoked by the clock having moved on), without rate
 * limits (both paths share one counter, so a limit reached between the two sends would make them
 * differ; test/e2e/rate-limits.test.ts covers them), plus a second server running koa alone.
 */
export async function startFuzzTarget(env: Record<string, string> = {}): Promise<FuzzTarget> {
  const app = await startTestApp({ clock: fixedClock(Math.floor(Date.now() / 1000)), env: { RATE_LIMIT_ADDRESS: '0', RATE_LIMIT_CLIENT: '0', ...env } });
  const koaOnly = http.createServer(createApp(app.deps).callback());
  await new Promise<void>((resolve) => koaOnly.listen(0, '127.0.0.1', resolve));
  const host = new URL(app.url).host;
  const ports = { listener: Number(new URL(app.url).port), koa: (koaOnly.address() as { port: number }).port };
  const send = (which: keyof typeof ports, req: FuzzRequest) => sendBytes(ports[which], toBytes(req, host), req.method);
  return {
    app,
    host,
    async both(req) {
      const listener = await send('listener', req);
      const koa = await send('koa', req);
      return { listener, koa };
    },
    listener: (req) => send('listener', req),
    koa: (req) => send('koa', req),
    async close() {
      koaOnly.closeAllConnections();
      await new Promise<void>((resolve) => koaOnly.close(() => resolve()));
      await app.close();
    },
  };
}

// ---- stored state ----

/**
 * Tables whose rows may change while a refused request is answered, and why:
 * - `login_failures`: a failed login is refused (401) and counted, by design, so every instance
 *   enforces one limit (README: "only failures write");
 * - `instances`: each instance's heartbeat, written on a timer whatever the requests;
 * - knex's own migration bookkeeping.
 */
export const CHANGING_ON_REFUSAL = ['login_failures', 'instances', 'knex_migrations', 'knex_migrations_lock'];

export type Snapshot = Map<string, string[]>;

/** Every row of every other table, each table's rows sorted, so two snapshots compare as values. */
export async function snapshot(app: TestApp): Promise<Snapshot> {
  const db = app.deps.db;
  const client = String(db.client.config.client);
  const names: string[] = /pg|postgres/.test(client)
    ? (await db.raw('select table_name as name from information_schema.tables where table_schema = current_schema()')).rows.map((r: { name: string }) => r.name)
    : (await db.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")).map((r: { name: string }) => r.name);
  const out: Snapshot = new Map();
  for (const table of names.filter((n) => !CHANGING_ON_REFUSAL.includes(n)).sort()) {
    const rows = (await db(table).select('*')) as Record<string, unknown>[];
    out.set(table, rows.map((row) => JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).sort());
  }
  return out;
}

/** The tables whose rows differ, with a sample of the rows added and removed; empty when none. */
export function stateChanges(before: Snapshot, after: Snapshot): string[] {
  const changes: string[] = [];
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const a = new Set(before.get(table) ?? []);
    const b = new Set(after.get(table) ?? []);
    const removed = [...a].filter((r) => !b.has(r));
    const added = [...b].filter((r) => !a.has(r));
    if (removed.length || added.length) changes.push(`${table}: -${JSON.stringify(removed.slice(0, 2))} +${JSON.stringify(added.slice(0, 2))}`);
  }
  return changes;
}

// ---- checks on one answer ----

/** Markers of a leaked stack trace, source path or database error. */
const LEAK = new RegExp(
  [String.raw`\n\s+at `, String.raw`\bat [\w.<>]+ \(`, 'node_modules', escape(path.resolve('src')), escape(process.cwd()), String.raw`\.[cm]?[jt]s:\d+`, 'SQLITE_', 'sqlite3', 'knex', 'TypeError', 'SyntaxError', 'ReferenceError', 'RangeError', String.raw`\bError: `, 'duplicate key', 'violates', 'relation "'].join('|'),
);

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The body as text: gunzipped when the answer says gzip, latin1 so no byte is lost. */
export function bodyText(answer: FuzzAnswer): string {
  const encoding = answer.headers.find(([n]) => n === 'content-encoding')?.[1];
  let body = answer.body;
  if (encoding === 'gzip') {
    try {
      body = gunzipSync(body);
    } catch {
      return `(undecodable gzip body) ${body.toString('latin1')}`;
    }
  }
  return body.toString('latin1');
}

/** Whether the answer refuses the request: an error status, or a redirect carrying an OAuth error (RFC 6749 §4.1.2.1). */
export function isRefusal(answer: FuzzAnswer): boolean {
  if (answer.status >= 400) return true;
  const location = answer.headers.find(([n]) => n === 'location')?.[1] ?? '';
  return answer.status >= 300 && answer.status < 400 && /[?&#]error=/.test(location);
}

/**
 * Failures of the invariants every answer must keep, as messages (empty: none).
 * `may501` says whether this request may legitimately get 501 Not Implemented (an unsupported
 * transfer coding, RFC 9112 §6.1; a historical status list, draft-ietf-oauth-status-list §8.4).
 */
export function invariantFailures(answer: FuzzAnswer, may501: boolean): string[] {
  const failures: string[] = [];
  if (answer.status >= 500 && !(answer.status === 501 && may501)) failures.push(`a ${answer.status} answer`);
  const leaked = [...answer.headers.map(([n, v]) => `${n}: ${v}`), bodyText(answer)].find((text) => LEAK.test(text));
  if (leaked !== undefined) failures.push(`a stack trace or internal detail: ${JSON.stringify(leaked.match(LEAK)?.[0])} in ${JSON.stringify(leaked.slice(0, 400))}`);
  return failures;
}

// ---- comparing the two paths ----

/** Headers that differ between any two answers of one server. */
const PER_ANSWER = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
/** Values made fresh for every answer: tokens, CSRF values, ids (32+ base64url characters), cookie expiry dates. */
const FRESH = [/[A-Za-z0-9_-]{32,}/g, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, /expires=[^;]*/gi];
const mask = (s: string) => FRESH.reduce((t, re) => t.replace(re, '<fresh>'), s);

/**
 * The parts of an answer two paths must agree on: the status, every header but the per-answer
 * ones (in order of name, repeats kept), and the body, with fresh values (tokens, CSRF values,
 * ids) masked. Content-Length goes when masking changed the body: a fresh token's length may vary.
 */
export function comparable(answer: FuzzAnswer): { status: number; headers: string[]; body: string } {
  const text = bodyText(answer);
  const body = mask(text);
  const headers = answer.headers
    .filter(([n]) => !PER_ANSWER.has(n) && !(n === 'content-length' && body !== text))
    .map(([n, v]) => `${n}: ${mask(v)}`)
    .sort();
  return { status: answer.status, headers, body };
}

/** A one-line account of a request and its answers for a failure message. */
export function report(req: FuzzRequest, answers: Record<string, FuzzAnswer>, failures: string[]): string {
  const lines = [`request bytes: ${describeRequest(req)}`];
  for (const [name, a] of Object.entries(answers)) {
    lines.push(`${name}: ${a.status} ${JSON.stringify(a.headers.map(([n, v]) => `${n}: ${v}`))} ${JSON.stringify(bodyText(a).slice(0, 300))}`);
  }
  return [...failures, ...lines].join('\n');
}

export interface BothWays {
  listener: FuzzAnswer;
  koa: FuzzAnswer;
  /** What broke the invariants: a 5xx, a stack trace, a refusal that changed stored state, two refusals that differ. */
  failures: string[];
}

/**
 * Sends `req` through the server's listener, then through koa alone, snapshotting the database
 * around each, and checks the invariants of every fuzz property: never a 5xx (501 only where
 * `may501`), never a stack trace, a refusal changes nothing stored, and — a refusal having changed
 * nothing, koa meets the same state — both paths refuse alike. `beforeEach` runs before each send
 * (e.g. to forget counts that refusals keep by design).
 */
export async function sendBothWays(target: FuzzTarget, req: FuzzRequest, opts: { may501: boolean; beforeEach?: () => Promise<unknown> }): Promise<BothWays> {
  await opts.beforeEach?.();
  const before = await snapshot(target.app);
  const listener = await target.listener(req);
  const between = await snapshot(target.app);
  await opts.beforeEach?.();
  const koa = await target.koa(req);
  const after = await snapshot(target.app);
  const failures = [
    ...invariantFailures(listener, opts.may501).map((f) => `listener: ${f}`),
    ...invariantFailures(koa, opts.may501).map((f) => `koa: ${f}`),
    ...(isRefusal(listener) ? stateChanges(before, between).map((c) => `listener refused (${listener.status}) yet changed ${c}`) : []),
    ...(isRefusal(koa) ? stateChanges(between, after).map((c) => `koa refused (${koa.status}) yet changed ${c}`) : []),
  ];
  if (isRefusal(listener) && JSON.stringify(comparable(listener)) !== JSON.stringify(comparable(koa))) {
    failures.push('the two paths refused differently', `listener: ${JSON.stringify(comparable(listener))}`, `koa:      ${JSON.stringify(comparable(koa))}`);
  }
  return { listener, koa, failures };
}

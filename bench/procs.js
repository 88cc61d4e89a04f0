// @ts-check
/**
 * Process plumbing for the bench: every child, worker and temp dir is registered here so that one
 * cleanup (normal end, error, SIGINT/SIGTERM) stops and removes all of them. Also a free loopback
 * port, an HTTP readiness probe, and CPU accounting from /proc (Linux) per process and machine-wide.
 */
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** @typedef {import('node:child_process').ChildProcess & { benchLabel?: string }} TrackedChild */

/** @type {Set<TrackedChild>} */
const children = new Set();
/** @type {Set<import('node:worker_threads').Worker>} */
const workers = new Set();
/** @type {Set<string>} */
const tempDirs = new Set();
/** @type {Map<number, { label: string, cmdline: string }>} grandchildren (e.g. a cluster primary's workers) */
const pids = new Map();
/** @type {Set<() => Promise<unknown>>} run after every child is stopped */
const cleanups = new Set();

/**
 * @template {import('node:child_process').ChildProcess} C
 * @param {C} child
 * @param {string} label
 * @returns {C & { benchLabel?: string }}
 */
export function trackChild(child, label) {
  /** @type {TrackedChild} */ (child).benchLabel = label;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** @param {import('node:worker_threads').Worker} worker */
export function trackWorker(worker) {
  workers.add(worker);
  worker.once('exit', () => workers.delete(worker));
  return worker;
}

/**
 * A process we did not spawn ourselves but started through a child (a cluster primary's worker):
 * killed by its pid at cleanup if it outlived its parent, and only while its command line is still
 * the one recorded here (never a recycled pid).
 */
/** @param {number} pid @param {string} label */
export function trackPid(pid, label) {
  const cmdline = readCmdline(pid);
  if (cmdline !== undefined) pids.set(pid, { label, cmdline });
}

/** @param {number} pid */
export function untrackPid(pid) {
  pids.delete(pid);
}

/** @param {number} pid */
function readCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and still runs the command line tracked for it. */
/** @param {number} pid */
export function trackedPidAlive(pid) {
  const t = pids.get(pid);
  if (!t) return false;
  const now = readCmdline(pid);
  return now !== undefined && now === t.cmdline;
}

/** @param {number} pid @param {NodeJS.Signals} signal */
function killTrackedPid(pid, signal) {
  if (!trackedPidAlive(pid)) return;
  try { process.kill(pid, signal); } catch { /* gone */ }
}

/**
 * Stops a tracked pid (SIGTERM, SIGKILL after `graceMs`) unless it is already gone; resolves once
 * it is gone (or after the SIGKILL). For processes that are not our children (no exit event).
 * @param {number} pid
 */
export async function stopTrackedPid(pid, graceMs = 3000) {
  const deadline = Date.now() + graceMs;
  if (trackedPidAlive(pid)) killTrackedPid(pid, 'SIGTERM');
  while (trackedPidAlive(pid) && Date.now() < deadline) await sleep(50);
  if (trackedPidAlive(pid)) {
    killTrackedPid(pid, 'SIGKILL');
    const hard = Date.now() + 2000;
    while (trackedPidAlive(pid) && Date.now() < hard) await sleep(50);
  }
  pids.delete(pid);
}

/** An async clean-up (e.g. dropping a PostgreSQL schema) run by cleanupAll after the children are stopped; returns an unregister function. */
/** @param {() => Promise<unknown>} fn */
export function onCleanup(fn) {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** True once cleanupAll has begun (SIGINT, failure or the normal end): start nothing new. */
export function cleaningUp() {
  return cleaned;
}

/** @param {string} prefix */
export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited.
 * @param {import('node:child_process').ChildProcess} child
 * @returns {Promise<void>}
 */
export function stopChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try { child.kill('SIGTERM'); } catch { clearTimeout(timer); resolve(); }
  });
}

let cleaned = false;
/** Stops every tracked child and worker (by their own handle, never by name) and removes temp dirs. */
export async function cleanupAll() {
  if (cleaned) return;
  cleaned = true;
  await Promise.all([...workers].map((w) => w.terminate().catch(() => undefined)));
  await Promise.all([...children].map((c) => stopChild(c)));
  await Promise.all([...pids.keys()].map((pid) => stopTrackedPid(pid)));
  for (const fn of [...cleanups]) {
    try { await fn(); } catch (/** @type {any} */ err) { process.stderr.write(`bench: clean-up step failed: ${err?.message ?? err}\n`); }
  }
  cleanups.clear();
  for (const dir of tempDirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  tempDirs.clear();
}

/** Last resort on a hard exit: synchronous kill of whatever is still alive, synchronous rm. */
process.once('exit', () => {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  for (const pid of pids.keys()) killTrackedPid(pid, 'SIGKILL');
  for (const dir of tempDirs) { try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ } }
});

/**
 * Forks `file` as a tracked child (stdout and stderr kept for `logs()`) and waits until it sends
 * `{ready: true}`; rejects if it exits first or takes longer than `timeoutMs`.
 * @param {string | URL} file
 * @param {{ env: NodeJS.ProcessEnv, label: string, timeoutMs?: number }} o
 */
export async function forkUntilReady(file, { env, label, timeoutMs = 20_000 }) {
  const child = trackChild(fork(file, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }), label);
  const out = tail(/** @type {import('node:stream').Readable} */ (child.stdout));
  const err = tail(/** @type {import('node:stream').Readable} */ (child.stderr));
  const logs = () => `--- ${label} stdout ---\n${out()}\n--- ${label} stderr ---\n${err()}`;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within ${timeoutMs / 1000} s\n${logs()}`)), timeoutMs);
    child.once('message', (/** @type {any} */ m) => { clearTimeout(timer); m?.ready ? resolve(undefined) : reject(new Error(`unexpected first message from ${label}`)); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${label} exited (code ${code})\n${logs()}`)); });
  });
  return { child, logs };
}

/** A loopback port for a server about to start (test/free-port.js: the tests' helpers use it too). */
export { freePort } from '../test/free-port.js';

/**
 * Polls `url` until it answers 2xx, the child dies, or `timeoutMs` passes.
 * @param {string} url
 * @param {TrackedChild | undefined} child
 */
export async function waitForHttp(url, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${child.benchLabel ?? 'child'} exited (code ${child.exitCode}, signal ${child.signalCode}) before answering ${url}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
      lastErr = new Error(`HTTP ${res.status}`);
    } catch (/** @type {any} */ err) {
      lastErr = err;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${lastErr?.message}`);
}

export const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps the last `max` lines a child wrote to a stream, to show them when something breaks. Lines
 * holding `skip` (a server's access log: thousands a second under load) are left out by a byte
 * search, nothing is decoded until asked for: the bench reads a log at about the cost of a pipe to
 * a file, so its reading takes no CPU the server measured beside it would have had otherwise.
 * @param {import('node:stream').Readable} stream
 * @param {number} [max]
 * @param {string} [skip]
 */
export function tail(stream, max = 40, skip) {
  /** @type {Buffer[]} */
  const lines = [];
  let partial = Buffer.alloc(0);
  const marker = skip === undefined ? undefined : Buffer.from(skip);
  stream.on('data', (/** @type {Buffer} */ chunk) => {
    const data = partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk;
    let start = 0;
    let nextMarker = -1;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      if (marker && nextMarker < start) {
        const at = data.indexOf(marker, start);
        nextMarker = at === -1 ? Infinity : at;
      }
      if (!(marker && nextMarker < nl)) {
        lines.push(Buffer.from(data.subarray(start, nl)));
        if (lines.length > max) lines.shift();
      }
      start = nl + 1;
    }
    partial = Buffer.from(data.subarray(start));
  });
  return () => [...lines, partial].map((b) => b.toString('utf8')).filter(Boolean).join('\n');
}

// ---- CPU accounting -------------------------------------------------------------------------

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch { /* keep 100 */ }

const hasProc = fs.existsSync('/proc/stat');

/**
 * utime+stime of a process (all its threads), in seconds; with `mainThreadOnly`, of its main thread
 * alone (for node: the event loop; the libuv pool and V8 helper threads excluded). Undefined
 * without /proc.
 * @param {number | undefined} pid
 * @returns {number | undefined}
 */
function processCpuSeconds(pid, mainThreadOnly = false) {
  if (!hasProc || !pid) return undefined;
  try {
    const stat = fs.readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / clkTck;
  } catch {
    return undefined;
  }
}

/** Machine-wide busy and total jiffies from /proc/stat (all cores, all tenants). */
function machineJiffies() {
  if (!hasProc) return undefined;
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0); // idle + iowait
  const total = v.reduce((a, b) => a + b, 0);
  return { idle, total };
}

/**
 * Starts a CPU measurement over the named pids; `end()` returns, per name, the CPU used in
 * core-seconds and as a percentage of one core (and, for the names in `mainThreadOf`, the main
 * thread's share), plus the machine's busy percentage (all cores, every process on it).
 * @template {string} K
 * @param {Record<K, number | undefined>} pids
 * @param {{ mainThreadOf?: NoInfer<K>[] }} [opts]
 * @returns {{ end(): CpuReading<K> }}
 */
export function cpuMeter(pids, { mainThreadOf = [] } = {}) {
  const t0 = process.hrtime.bigint();
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuSeconds(pid)]));
  const startMain = Object.fromEntries(mainThreadOf.map((k) => [k, processCpuSeconds(pids[k], true)]));
  const m0 = machineJiffies();
  return {
    end() {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      /** @type {Partial<Record<K, ProcessCpu>>} */
      const per = {};
      for (const [k, pid] of /** @type {Array<[K, number | undefined]>} */ (Object.entries(pids))) {
        const s = start[k];
        const e = processCpuSeconds(pid);
        if (s !== undefined && e !== undefined) per[k] = { cpuSeconds: e - s, pctOfOneCore: ((e - s) / wall) * 100 };
      }
      for (const k of mainThreadOf) {
        const s = startMain[k];
        const e = processCpuSeconds(pids[k], true);
        const p = per[k];
        if (p && s !== undefined && e !== undefined) p.mainThreadPctOfOneCore = ((e - s) / wall) * 100;
      }
      // Everything else on the machine (other tenants, the bench's own process…), in % of one core.
      const ours = Object.values(per).reduce((/** @type {number} */ sum, p) => sum + /** @type {ProcessCpu} */ (p).pctOfOneCore, 0);
      return { wallSeconds: wall, ...machineShare(m0, ours), ...per };
    },
  };
}

/** @typedef {{ cpuSeconds: number, pctOfOneCore: number, mainThreadPctOfOneCore?: number }} ProcessCpu */
/**
 * @template {string} K
 * @typedef {{ wallSeconds: number, machineBusyPct?: number, othersPctOfOneCore?: number } & Partial<Record<K, ProcessCpu>>} CpuReading
 */

/**
 * The machine's busy share since `m0` (all cores, every process on it), and what of it was not `oursPct`.
 * @param {{ idle: number, total: number } | undefined} m0
 * @param {number} oursPct
 * @returns {{ machineBusyPct?: number, othersPctOfOneCore?: number }}
 */
function machineShare(m0, oursPct) {
  const m1 = machineJiffies();
  if (!m0 || !m1) return {};
  const total = m1.total - m0.total;
  if (!(total > 0)) return { machineBusyPct: undefined };
  const machineBusyPct = (1 - (m1.idle - m0.idle) / total) * 100;
  return { machineBusyPct, othersPctOfOneCore: Math.max(0, machineBusyPct * os.availableParallelism() - oursPct) };
}

// ---- process groups (a cluster primary and its workers; PostgreSQL's processes) ---------------

/**
 * The pids whose parent is `ppid` (from /proc; [] without it).
 * @param {number | undefined} ppid
 * @returns {number[]}
 */
export function childPids(ppid) {
  if (!hasProc) return [];
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/**
 * The pids whose command name (/proc/PID/comm) is `comm`, e.g. every `postgres` process on the machine.
 * @param {string} comm
 * @returns {number[]}
 */
export function pidsByComm(comm) {
  if (!hasProc) return [];
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() === comm) out.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/**
 * Like cpuMeter, for groups of processes: `groups` maps a name to a function giving the group's
 * pids, asked at the start and at the end. A pid present at both counts its difference; one that
 * appeared meanwhile counts all its CPU (it started during the window); one that vanished is lost
 * and listed in `gone`. Per group: cpuSeconds, pctOfOneCore, and per process its share and its main
 * thread's (for node: its event loop). Plus machineBusyPct and othersPctOfOneCore (everything on
 * the machine outside the groups).
 * @template {string} K
 * @param {Record<K, () => Array<number | undefined>>} groups
 * @returns {{ end(): GroupCpuReading<K> }}
 */
export function groupCpuMeter(groups) {
  const t0 = process.hrtime.bigint();
  const sample = (/** @type {number | undefined} */ pid) => ({ total: processCpuSeconds(pid), main: processCpuSeconds(pid, true) });
  const entries = /** @type {Array<[K, () => Array<number | undefined>]>} */ (Object.entries(groups));
  const start = Object.fromEntries(entries.map(([k, f]) => [k, new Map(f().map((pid) => [pid, sample(pid)]))]));
  const m0 = machineJiffies();
  return {
    end() {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (!hasProc) return /** @type {GroupCpuReading<K>} */ ({ wallSeconds: wall });
      /** @type {Partial<Record<K, GroupCpu>>} */
      const per = {};
      for (const [k, f] of entries) {
        const before = start[k];
        const now = new Map(f().map((pid) => [pid, sample(pid)]));
        /** @type {GroupCpu['processes']} */
        const processes = [];
        let cpu = 0;
        for (const [pid, e] of now) {
          if (e.total === undefined) continue;
          const s = before.get(pid) ?? { total: 0, main: 0 };
          const total = e.total - (s.total ?? 0);
          const main = e.main === undefined ? undefined : e.main - (s.main ?? 0);
          cpu += total;
          processes.push({ pid, new: !before.has(pid), pctOfOneCore: (total / wall) * 100, mainThreadPctOfOneCore: main === undefined ? undefined : (main / wall) * 100 });
        }
        per[k] = { cpuSeconds: cpu, pctOfOneCore: (cpu / wall) * 100, processes, gone: [...before.keys()].filter((pid) => !now.has(pid)) };
      }
      const ours = Object.values(per).reduce((/** @type {number} */ sum, g) => sum + /** @type {GroupCpu} */ (g).pctOfOneCore, 0);
      return { wallSeconds: wall, ...machineShare(m0, ours), ...per };
    },
  };
}

/**
 * @typedef {{ cpuSeconds: number, pctOfOneCore: number, gone: Array<number | undefined>,
 *   processes: Array<{ pid: number | undefined, new: boolean, pctOfOneCore: number, mainThreadPctOfOneCore?: number }> }} GroupCpu
 */
/**
 * @template {string} K
 * @typedef {{ wallSeconds: number, machineBusyPct?: number, othersPctOfOneCore?: number } & Partial<Record<K, GroupCpu>>} GroupCpuReading
 */

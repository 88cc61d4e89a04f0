// @ts-check
/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `BENCH_CPU_PROF=/tmp/prof npm run bench`):
 * top functions by self time, top functions by inclusive time, and self time by package / file.
 *
 *   node bench/profile-summary.js <file.cpuprofile | dir> [--top N] [--window-from S --window-to S]
 *
 * With a directory, the newest .cpuprofile in it is read. Times are those of the profiled (main)
 * thread only: work on the libuv pool (WebCrypto signing, sqlite3 queries) does not appear.
 */
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
/** @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame */
/** @typedef {{ id: number, callFrame: CallFrame, children?: number[] }} ProfileNode */

const opt = (/** @type {string} */ name, /** @type {number} */ def) => {
  const i = args.indexOf(name);
  return i < 0 ? def : Number(args[i + 1]);
};
const given = args.find((a) => !a.startsWith('--') && !/^\d+(\.\d+)?$/.test(a));
if (!given) {
  process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile | dir> [--top N]\n');
  process.exit(2);
}
let file = given;
if (fs.statSync(file).isDirectory()) {
  const newest = fs.readdirSync(file).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(given, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (!newest) throw new Error(`no .cpuprofile in ${file}`);
  file = newest;
}
const TOP = opt('--top', 25);
/** @type {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number }} */
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
/** @type {Map<number, number>} */
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** @param {CallFrame} cf */
function where(cf) {
  const url = cf.url || '';
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (p.startsWith('node:')) return p;
  return path.relative(ROOT, p);
}
/** @param {CallFrame} cf */
function fnKey(cf) {
  const name = cf.functionName || '(anonymous)';
  const url = cf.url ? cf.url.replace(/^file:\/\//, '') : '';
  const short = url ? `${where(cf)}${url.includes('node_modules') || url.startsWith('node:') ? `/${path.basename(url)}` : ''}:${cf.lineNumber + 1}` : '';
  return short ? `${name}  ${short}` : name;
}

// Time per sample: timeDeltas[i] is the gap before sample i; attribute the gap after it.
const samples = prof.samples;
const deltas = prof.timeDeltas;
const t0 = prof.startTime;
const from = opt('--window-from', -Infinity) * 1e6;
const to = opt('--window-to', Infinity) * 1e6;
/** @type {Map<string, number>} */
const self = new Map();
/** @type {Map<string, number>} */
const incl = new Map();
/** @type {Map<string, number>} */
const byPkg = new Map();
let total = 0;
let t = t0;
for (let i = 0; i < samples.length; i++) {
  t += deltas[i];
  const dt = i + 1 < deltas.length ? deltas[i + 1] : 0;
  const rel = t - t0;
  if (rel < from || rel > to) continue;
  total += dt;
  const leaf = /** @type {ProfileNode} */ (byId.get(samples[i]));
  const k = fnKey(leaf.callFrame);
  self.set(k, (self.get(k) ?? 0) + dt);
  const pkg = where(leaf.callFrame);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + dt);
  const seen = new Set();
  for (let id = /** @type {number | undefined} */ (samples[i]); id !== undefined; id = parent.get(id)) {
    const key = fnKey(/** @type {ProfileNode} */ (byId.get(id)).callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + dt);
  }
}

const idle = (self.get('(idle)') ?? 0);
const busy = total - idle;
const pct = (/** @type {number} */ v, /** @type {number} */ of) => `${((v / of) * 100).toFixed(1).padStart(5)}%`;
const ms = (/** @type {number} */ v) => `${(v / 1000).toFixed(0).padStart(7)} ms`;
const show = (/** @type {string} */ title, /** @type {Map<string, number>} */ map, /** @type {number} */ n, /** @type {number} */ of) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`  ${ms(v)} ${pct(v, of)}  ${k}\n`);
};
process.stdout.write(`${file}\nprofiled ${(total / 1e6).toFixed(1)} s of main thread, busy (not idle) ${(busy / 1e6).toFixed(1)} s = ${pct(busy, total).trim()}\n`);
process.stdout.write('percentages below are of BUSY time\n');
const noIdle = (/** @type {Map<string, number>} */ m) => new Map([...m].filter(([k]) => k !== '(idle)' && !k.startsWith('(root)')));
show(`Top ${TOP} functions by self time`, noIdle(self), TOP, busy);
show(`Top ${TOP} functions by inclusive time`, noIdle(incl), TOP, busy);
show('Self time by package / file', noIdle(byPkg), 30, busy);

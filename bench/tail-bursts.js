// @ts-check
/**
 * `npm run bench:tail`: where the p99 of `client_credentials` at c=50 comes from — Grantor as
 * operators run it (bench section 2's server and load) and the bare signer (node:http and the same
 * signature, nothing else), in alternating rounds, so that a change to either can be compared over
 * several rounds rather than section 2's one run. Not part of `npm run bench`.
 *
 * Per run: p50, p99 and their ratio, and bench/tail.js's reading of the answers over the p99 (the
 * share sent in the first 300 ms, the share in bursts, p99/p50 without the first 300 ms and within
 * each 250 ms); then the medians per server.
 *
 * env: BENCH_TAIL_ROUNDS (default 4), BENCH_SECONDS (5), BENCH_TAIL_CONNECTIONS (50); BENCH_TAIL_ENV, a
 * JSON object of extra environment for Grantor (e.g. '{"NODE_OPTIONS":"--max-semi-space-size=32"}');
 * BENCH_TAIL_BURSTS=1 also prints when each burst began (ms since the epoch, to line up with the
 * server's own traces).
 */
import { startBareSigner } from './bare-signer.js';
import { num } from './env.js';
import { LOAD_CLIENTS, startGrantor } from './grantor-server.js';
import { startLoadGenerator } from './load.js';
import { loadTools, tokenRequest, verifyIssuance } from './load-runs.js';
import { cleanupAll, sleep } from './procs.js';
import { fmt, median } from './report.js';
import { startScriptedLoadGenerator } from './scripted-load.js';
import { tailStructure } from './tail.js';

const ROUNDS = num('BENCH_TAIL_ROUNDS', 4);
const SECONDS = num('BENCH_SECONDS', 5);
const CONNECTIONS = num('BENCH_TAIL_CONNECTIONS', 50);
async function main() {
  const log = (/** @type {string} */ m) => process.stderr.write(`${m}\n`);
  const [loader, scripted] = await Promise.all([startLoadGenerator(), startScriptedLoadGenerator()]);
  const tools = loadTools({ loader, scripted, warmupSeconds: 2, warmupConnections: 10, settleMs: 300, log });
  const grantor = await startGrantor({ clients: LOAD_CLIENTS, env: JSON.parse(process.env.BENCH_TAIL_ENV ?? '{}') });
  const bare = await startBareSigner({ resource: grantor.resource, scope: grantor.scope });
  /** @typedef {{ server: import('./types.js').BenchTarget, req: ReturnType<typeof tokenRequest>, runs: import('./types.js').TailStructure[] }} Target */
  /** @type {Target[]} */
  const targets = [grantor, bare].map((server) => ({ server, req: tokenRequest(server, '/oauth/token'), runs: [] }));
  try {
    for (const t of targets) {
      await verifyIssuance(t.server, t.req);
      await tools.warmUp(t.server, t.req);
    }
    console.log(`client_credentials at c=${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS} s, Grantor (as operators run it) and the bare signer in turn`);
    console.log('server        req/s   p50 ms  p99 ms  p99/p50  over p99  at start  in bursts  steady p99/p50  within 250 ms');
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of round % 2 ? [...targets].reverse() : targets) {
        const r = await loader.run({ ...t.req, connections: CONNECTIONS, duration: SECONDS, keepAnswers: true });
        if (!r.answers || r.non2xx > 0 || r.errors > 0) throw new Error(`${t.server.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        const s = tailStructure(r.answers, CONNECTIONS);
        t.runs.push(s);
        const pct = (/** @type {number} */ v) => `${Math.round(v * 100)} %`;
        console.log(
          `${t.server.name.padEnd(12)} ${fmt.int(r.rps)?.padStart(6)}  ${fmt.ms(s.p50)?.padStart(6)}  ${fmt.ms(s.p99)?.padStart(6)}  ${fmt.ratio(s.spread)?.padStart(7)}` +
            `  ${String(s.over).padStart(8)}  ${pct(s.atStart).padStart(8)}  ${pct(s.inBursts).padStart(9)}  ${fmt.ratio(s.steadySpread)?.padStart(14)}  ${fmt.ratio(s.windowSpread)?.padStart(13)}`,
        );
        if (process.env.BENCH_TAIL_BURSTS) console.log(`  bursts at (epoch ms): ${s.bursts.map((b) => r.answers?.startedAt + b).join(' ')}`);
        await sleep(300);
      }
    }
    for (const t of targets) {
      const m = (/** @type {(s: import('./types.js').TailStructure) => number} */ f) => median(t.runs.map(f));
      console.log(
        `median, ${t.server.name}: p99/p50 ${fmt.ratio(m((s) => s.spread))}, steady ${fmt.ratio(m((s) => s.steadySpread))}, within 250 ms ${fmt.ratio(m((s) => s.windowSpread))}; ` +
          `over the p99: ${Math.round(m((s) => s.atStart) * 100)} % at the start, ${Math.round(m((s) => s.inBursts) * 100)} % in bursts`,
      );
    }
  } finally {
    await Promise.all([grantor.stop(), bare.stop()]);
    await cleanupAll();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

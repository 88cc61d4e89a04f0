// @ts-check
/**
 * The RSA-2048 RS256 signing ceiling of this machine: how many Grantor-shaped access tokens per
 * second the CPU can sign when signing is all it does. Threads are worker_threads, one per
 * os.availableParallelism() for the all-core figures, started together after each has warmed up.
 */
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { cpuMeter, trackWorker } from './procs.js';

const WORKER = new URL('./signing-worker.js', import.meta.url);

/** Claims shaped like a Grantor client_credentials token, src/tokens/access-token.ts (jti is added per signature). */
function sampleClaims() {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'http://127.0.0.1:3000',
    sub: 'Qm9vdHN0cmFwQ2xpZW50SWQ',
    aud: 'https://api.bench.example',
    exp: now + 600,
    iat: now,
    client_id: 'Qm9vdHN0cmFwQ2xpZW50SWQ',
    scope: 'read write',
    grant_id: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
    status: { status_list: { idx: 0, uri: 'http://127.0.0.1:3000/statuslists/1' } },
  };
}

/**
 * @typedef {{ mode: 'node' | 'jose', threads: number, inflight?: number, seconds: number, signaturesPerSecond: number,
 *   perThread: number[], cpuPctOfOneCore?: number, othersPctOfOneCore?: number }} SignerRun
 * @typedef {{ cores: number, uvThreadpoolSize: number, seconds: number, nodeSingle?: SignerRun, nodeAll?: SignerRun,
 *   joseSingle?: SignerRun, joseAll?: SignerRun, joseOneLoopPool?: SignerRun }} SigningCeiling
 * @typedef {'nodeSingle' | 'nodeAll' | 'joseSingle' | 'joseAll' | 'joseOneLoopPool'} SignerRow
 */

/**
 * Runs `threads` signing workers for `seconds`; returns total signatures per second.
 * @param {{ mode: 'node' | 'jose', threads: number, seconds: number, inflight?: number, pem: string }} o
 * @returns {Promise<SignerRun>}
 */
async function runSigners({ mode, threads, seconds, inflight, pem }) {
  /** @type {Worker[]} */
  const workers = [];
  try {
    const ready = [];
    for (let i = 0; i < threads; i++) {
      const w = trackWorker(new Worker(WORKER, { workerData: { mode, pem, seconds, inflight, claims: sampleClaims(), kid: 'bench-kid' } }));
      workers.push(w);
      ready.push(nextMessage(w, 'ready'));
    }
    await Promise.all(ready);
    const done = workers.map((w) => nextMessage(w, 'done'));
    const meter = cpuMeter({ bench: process.pid });
    for (const w of workers) w.postMessage({ type: 'go' });
    const results = await Promise.all(done);
    const cpu = meter.end();
    const perThread = results.map((r) => r.count / r.elapsed);
    return {
      mode, threads, inflight, seconds,
      signaturesPerSecond: perThread.reduce((a, b) => a + b, 0),
      perThread,
      cpuPctOfOneCore: cpu.bench?.pctOfOneCore,
      // CPU used by other processes meanwhile: a noisy neighbour lowers the ceiling.
      othersPctOfOneCore: cpu.othersPctOfOneCore,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * @param {Worker} worker
 * @param {string} type
 * @returns {Promise<any>} the worker's message (signing-worker.js: { type, count, elapsed })
 */
function nextMessage(worker, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (/** @type {any} */ msg) => {
      if (msg?.type !== type) return;
      cleanup();
      resolve(msg);
    };
    const onError = (/** @type {Error} */ err) => { cleanup(); reject(err); };
    const onExit = (/** @type {number} */ code) => { cleanup(); reject(new Error(`signing worker exited early (code ${code})`)); };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}

/**
 * Measures, in order: one thread and all threads with node:crypto sign() (the raw ceiling); jose
 * SignJWT on one thread with one signature at a time (the single-core figure), on one thread per
 * core with two in flight each, and from one JS thread keeping 2 × cores signatures in flight on
 * the libuv pool. The bench's ceiling is the faster of the last two (jose on every core).
 * `only`: the names of the rows to measure.
 * @param {{ seconds: number, log?: (msg: string) => void, only?: SignerRow[] }} o
 * @returns {Promise<SigningCeiling>}
 */
export async function measureSigningCeiling({ seconds, log = () => {}, only }) {
  const cores = os.availableParallelism();
  const { privateKey: pem } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  /** @type {Array<[SignerRow, { mode: 'node' | 'jose', threads: number, inflight?: number }]>} */
  const plan = [
    ['nodeSingle', { mode: 'node', threads: 1 }],
    ['nodeAll', { mode: 'node', threads: cores }],
    ['joseSingle', { mode: 'jose', threads: 1, inflight: 1 }],
    // Two in flight per thread: with one, each thread idles during every hop to the libuv pool and
    // back, which understates what the cores can sign (measured: ~25% lower on 2 cores).
    ['joseAll', { mode: 'jose', threads: cores, inflight: 2 }],
    ['joseOneLoopPool', { mode: 'jose', threads: 1, inflight: 2 * cores }],
  ];
  /** @type {SigningCeiling} */
  const out = { cores, uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4, seconds };
  for (const [name, opts] of plan.filter(([n]) => !only || only.includes(n))) {
    log(`  signing: ${name} (${opts.mode}, ${opts.threads} thread(s)${(opts.inflight ?? 1) > 1 ? `, ${opts.inflight} in flight` : ''}) for ${seconds} s`);
    out[name] = await runSigners({ ...opts, seconds, pem });
  }
  return out;
}

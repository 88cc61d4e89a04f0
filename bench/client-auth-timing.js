// @ts-check
/**
 * `npm run bench:timing`: does the token endpoint's answer time tell whether a client_id exists?
 * (issue #10 item 6). Against the built server (dist/, like the other bench scripts), it sends
 * interleaved, in a shuffled order each round, failing client_credentials requests on the lean
 * token path (plain same-origin form POSTs on one keep-alive connection):
 *   - a wrong secret for the registered client, and
 *   - a secret for a client_id that does not exist,
 * each with HTTP Basic and with client_secret_post, and
 *   - a private_key_jwt assertion (RFC 7523) signed by a foreign key under the kid of a registered
 *     client's key (a bad signature), and
 *   - an assertion whose sub (client_id) does not exist,
 * each with ES256 and RS256 (one registered client per algorithm, RSA 2048). It prints the median
 * time of each, and per method the ratio unknown / existing, and exits 1 when a ratio is off 1 by
 * more than 10 %, or when an answer is not the expected 401 invalid_client, or when the two
 * answers of a method differ.
 *
 * The unknown client_id is the same on every try: the attacker's repeated probe of one name
 * (the first probe of a name reads the database once, then its absence is remembered). For
 * information only, it also times a fresh unknown client_id on every try (one query each).
 *
 * env: BENCH_TIMING_TRIES (per kind and method, default 400), BENCH_TIMING_WARMUP (default 100),
 *      BENCH_TIMING_TOLERANCE (default 0.10).
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { fileURLToPath } from 'node:url';
import { LIMITS_OFF, startGrantor } from './grantor-server.js';
import { cleanupAll } from './procs.js';
import { median } from './report.js';
import { num } from './env.js';


/**
 * One POST on the shared keep-alive connection; resolves with the status, the answer and the time in ms.
 * @param {http.Agent} agent
 * @param {string} url
 * @param {string} body
 * @param {Record<string, string>} headers
 * @returns {Promise<{ status: number | undefined, answer: string, ms: number }>}
 */
function post(agent, url, body, headers) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.request(`${url}/oauth/token`, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        const { date: _d, 'x-request-id': _r, connection: _c, 'keep-alive': _k, ...kept } = res.headers;
        resolve({ status: res.statusCode, answer: `${JSON.stringify(kept)} ${text}`, ms });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** @template T @param {T[]} xs */
function shuffle(xs) {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The algorithms of the assertion rows: one elliptic-curve and one RSA (2048-bit) client. */
export const ASSERTION_ALGORITHMS = ['ES256', 'RS256'];

/**
 * A private_key_jwt client with a key of `alg`, registered through the CLI (--jwks-file), and two
 * assertions signed ahead (each is refused before its jti is recorded, so it can be sent again):
 * the client's, signed by a foreign key under the registered kid (a bad signature); and one whose
 * sub is a client_id that does not exist, signed by the client's own key.
 */
/**
 * @param {import('./types.js').GrantorServer} grantor
 * @param {string} alg
 * @param {string} unknownId
 */
async function assertionClient(grantor, alg, unknownId) {
  const kid = randomUUID();
  const own = await generateKeyPair(alg, { extractable: true });
  const foreign = await generateKeyPair(alg, { extractable: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-bench-jwks-'));
  try {
    const file = path.join(dir, 'jwks.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(own.publicKey)), kid, alg, use: 'sig' }] }));
    const client = await grantor.cli(['clients', 'create', '--name', `bench signer ${alg}`, '--grant-types', 'client_credentials', '--scopes', grantor.scope, '--auth-method', 'private_key_jwt', '--jwks-file', file, '--json']);
    const now = Math.floor(Date.now() / 1000);
    const sign = (/** @type {string} */ sub, /** @type {import('jose').CryptoKey} */ key) => new SignJWT({ iss: sub, sub, aud: `${grantor.url}`, iat: now, exp: now + 300, jti: randomUUID() }).setProtectedHeader({ alg, kid }).sign(key);
    return { existing: await sign(client.client_id, foreign.privateKey), unknown: await sign(unknownId, own.privateKey) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Measures on a running Grantor (bench/grantor-server.js) with its registered client. Returns the
 * medians (ms) per method and kind, the ratios, and whether every answer was the same 401.
 * @param {{ grantor: import('./types.js').GrantorServer, tries?: number, warmup?: number, tolerance?: number, log?: (msg: string) => void }} o
 */
export async function measureClientAuthTiming({ grantor, tries = 400, warmup = 100, tolerance = 0.1, log = () => {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const unknownId = `unknown-${randomBytes(8).toString('hex')}`;
  const basic = (/** @type {string} */ id, /** @type {string} */ secret) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });
  const form = (/** @type {Record<string, string>} */ extra) => new URLSearchParams({ grant_type: 'client_credentials', ...extra }).toString();
  const wrong = randomBytes(32).toString('base64url');
  /** @type {Record<string, () => ReturnType<typeof post>>} */
  const requests = {
    'basic existing': () => post(agent, grantor.url, form({}), basic(grantor.clientId, wrong)),
    'basic unknown': () => post(agent, grantor.url, form({}), basic(unknownId, wrong)),
    'post existing': () => post(agent, grantor.url, form({ client_id: grantor.clientId, client_secret: wrong }), {}),
    'post unknown': () => post(agent, grantor.url, form({ client_id: unknownId, client_secret: wrong }), {}),
    'post fresh unknown': () => post(agent, grantor.url, form({ client_id: `fresh-${randomBytes(8).toString('hex')}`, client_secret: wrong }), {}),
  };
  for (const alg of ASSERTION_ALGORITHMS) {
    const signed = await assertionClient(grantor, alg, unknownId);
    requests[`${alg} existing`] = () => post(agent, grantor.url, form({ client_assertion_type: JWT_BEARER, client_assertion: signed.existing }), {});
    requests[`${alg} unknown`] = () => post(agent, grantor.url, form({ client_assertion_type: JWT_BEARER, client_assertion: signed.unknown }), {});
  }
  const methods = ['basic', 'post', ...ASSERTION_ALGORITHMS];
  /** @type {Record<string, number[]>} */
  const times = Object.fromEntries(Object.keys(requests).map((k) => [k, []]));
  /** @type {Record<string, Set<string>>} */
  const answers = Object.fromEntries(Object.keys(requests).map((k) => [k, new Set()]));
  /** @type {string | undefined} */
  let unexpected;
  try {
    for (let round = 0; round < warmup + tries; round++) {
      for (const kind of shuffle(Object.keys(requests))) {
        const res = await requests[kind]();
        if (res.status !== 401 || !res.answer.includes('"error":"invalid_client"')) unexpected ??= `${kind}: ${res.status} ${res.answer}`;
        answers[kind].add(res.answer);
        if (round >= warmup) times[kind].push(res.ms);
      }
      if (round === warmup) log(`  client-auth timing: warmed up (${warmup} rounds), measuring ${tries} rounds`);
    }
  } finally {
    agent.destroy();
  }
  const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const ratio = (/** @type {string} */ method) => medians[`${method} unknown`] / medians[`${method} existing`];
  const ratios = Object.fromEntries(methods.map((m) => [m, ratio(m)]));
  // Per method, an unknown client and a wrong secret (a bad signature) must get byte-identical answers (bar date and request id).
  const sameAnswers = methods.every((m) => answers[`${m} existing`].size === 1 && [...answers[`${m} unknown`]].every((a) => answers[`${m} existing`].has(a)));
  const within = Object.values(ratios).every((r) => Math.abs(r - 1) <= tolerance);
  return { tries, warmup, tolerance, medians, ratios, freshUnknownRatio: medians['post fresh unknown'] / medians['post existing'], sameAnswers, unexpected, pass: within && sameAnswers && !unexpected };
}

/** @typedef {Awaited<ReturnType<typeof measureClientAuthTiming>>} ClientAuthTiming */

/**
 * @param {ClientAuthTiming} r
 * @param {(line: string) => void} [p]
 */
export function printClientAuthTiming(r, p = console.log) {
  const ms = (/** @type {number} */ v) => `${v.toFixed(3)} ms`;
  p(`client authentication timing, lean token path, ${r.tries} interleaved tries each (after ${r.warmup} rounds of warm-up):`);
  for (const method of ['basic', 'post']) {
    p(`  ${method === 'basic' ? 'client_secret_basic' : 'client_secret_post '}  wrong secret ${ms(r.medians[`${method} existing`])}   unknown client_id ${ms(r.medians[`${method} unknown`])}   ratio ${r.ratios[method].toFixed(3)}`);
  }
  for (const alg of ASSERTION_ALGORITHMS) {
    p(`  private_key_jwt ${alg}  bad signature ${ms(r.medians[`${alg} existing`])}   unknown client_id ${ms(r.medians[`${alg} unknown`])}   ratio ${r.ratios[alg].toFixed(3)}`);
  }
  p(`  (information: a fresh unknown client_id on every try, one database read each: ${ms(r.medians['post fresh unknown'])}, ratio ${r.freshUnknownRatio.toFixed(3)})`);
  p(`  answers: ${r.sameAnswers ? 'identical (status, headers, body)' : 'DIFFERENT'}${r.unexpected ? `; unexpected answer: ${r.unexpected}` : ''}`);
  p(`  ${r.pass ? 'PASS' : 'FAIL'}: medians within ${Math.round(r.tolerance * 100)} % and the same answers`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let code = 1;
  try {
    const grantor = await startGrantor({ env: LIMITS_OFF }); // one client, far past the per-client limit
    try {
      const result = await measureClientAuthTiming({
        grantor,
        tries: num('BENCH_TIMING_TRIES', 400),
        warmup: num('BENCH_TIMING_WARMUP', 100),
        tolerance: num('BENCH_TIMING_TOLERANCE', 0.1),
        log: (m) => process.stderr.write(`${m}\n`),
      });
      printClientAuthTiming(result);
      process.stdout.write(`BENCH_TIMING_JSON ${JSON.stringify(result)}\n`);
      code = result.pass ? 0 : 1;
    } finally {
      await grantor.stop();
    }
  } catch (/** @type {any} */ err) {
    process.stderr.write(`bench:timing: BROKEN: ${err?.stack ?? err}\n`);
  } finally {
    await cleanupAll();
  }
  process.exit(code);
}

// @ts-check
/**
 * A load generator whose requests are built per request and whose answers are read, in a process
 * of its own (like bench/load-child.js, which sends one fixed request). autocannon's programmatic
 * API: `requests[0].setupRequest` builds each request, `onResponse` reads each answer.
 *
 * Scripts (IPC {id, script, opts} → {id, result} | {id, error}):
 *   - 'refresh': POST /oauth/token grant_type=refresh_token for a public client. Each request takes
 *     a refresh token from the pool; each 200 pushes the successor (rotation) back, so every
 *     connection walks its own rotation chain. The pool is set once ({type: 'pool'}) and kept
 *     across runs. A connection stopped with a request in flight loses that chain's token (the
 *     server rotated it; the answer was never read): at most `connections` per run.
 *   - 'introspect': one fixed POST /oauth/introspect; each answer must be 200 with "active":true.
 *   - 'dpop': one fixed POST /oauth/token, each with the next DPoP proof of the pool (see dpopScript).
 *   - 'code': POST /oauth/token grant_type=authorization_code, each with the next code of the pool
 *     (its form fields: code and PKCE verifier; a code is single use); each answer must be 200 with
 *     an access token.
 */
import { runAutocannon } from './autocannon-run.js';

/** @typedef {{ ok: number, bad: number, starved: number, firstBad: string | null, poolBefore: number }} ScriptStats */
/** @typedef {import('autocannon').AutocannonRequest} AutocannonRequest */

/** @type {string[]} */
let pool = [];

/** The next value of the pool, each sent once; an empty pool is counted and sent as a value the server refuses (400: shows up as non-2xx, never silently). */
/** @param {ScriptStats} stats */
function nextFromPool(stats) {
  const value = pool.shift();
  if (value !== undefined) return value;
  stats.starved++;
  return 'pool-empty';
}

/**
 * @param {import('./types.js').LoadOptions} opts
 * @param {ScriptStats} stats
 * @returns {AutocannonRequest}
 */
function refreshScript({ clientId = '' }, stats) {
  const prefix = `grant_type=refresh_token&client_id=${encodeURIComponent(clientId)}&refresh_token=`;
  return {
    setupRequest(/** @type {AutocannonRequest} */ req) {
      const token = nextFromPool(stats);
      return { ...req, body: prefix + encodeURIComponent(token) };
    },
    onResponse(/** @type {number} */ status, /** @type {string} */ body) {
      if (status === 200) {
        let successor;
        try {
          successor = JSON.parse(body).refresh_token;
        } catch { /* counted below */ }
        if (typeof successor === 'string' && successor) {
          pool.push(successor);
          stats.ok++;
          return;
        }
      }
      stats.bad++;
      stats.firstBad ??= `HTTP ${status} ${String(body).slice(0, 300)}`;
    },
  };
}

/**
 * @param {import('./types.js').LoadOptions} _opts
 * @param {ScriptStats} stats
 * @returns {AutocannonRequest}
 */
function introspectScript(_opts, stats) {
  return {
    onResponse(/** @type {number} */ status, /** @type {string} */ body) {
      if (status === 200 && String(body).includes('"active":true')) stats.ok++;
      else {
        stats.bad++;
        stats.firstBad ??= `HTTP ${status} ${String(body).slice(0, 300)}`;
      }
    },
  };
}

/**
 * 'dpop': one fixed token request, each with the next DPoP proof of the pool (a proof is single
 * use, so they are signed ahead by the bench and sent once each); each answer must be 200 DPoP.
 * @param {import('./types.js').LoadOptions} _opts
 * @param {ScriptStats} stats
 * @returns {AutocannonRequest}
 */
function dpopScript(_opts, stats) {
  return {
    setupRequest(/** @type {AutocannonRequest} */ req) {
      const proof = nextFromPool(stats);
      return { ...req, headers: { ...req.headers, DPoP: proof } };
    },
    onResponse(/** @type {number} */ status, /** @type {string} */ body) {
      if (status === 200 && String(body).includes('"token_type":"DPoP"')) stats.ok++;
      else {
        stats.bad++;
        stats.firstBad ??= `HTTP ${status} ${String(body).slice(0, 300)}`;
      }
    },
  };
}

/**
 * 'code': the fixed part of a code redemption (grant_type, redirect_uri; the client authenticates
 * in a header), then the pool's next `code=…&code_verifier=…`.
 * @param {import('./types.js').LoadOptions} opts
 * @param {ScriptStats} stats
 * @returns {AutocannonRequest}
 */
function codeScript({ body = '' }, stats) {
  return {
    setupRequest(/** @type {AutocannonRequest} */ req) {
      return { ...req, body: `${body}&${nextFromPool(stats)}` };
    },
    onResponse(/** @type {number} */ status, /** @type {string} */ answer) {
      if (status === 200 && String(answer).includes('"access_token"')) stats.ok++;
      else {
        stats.bad++;
        stats.firstBad ??= `HTTP ${status} ${String(answer).slice(0, 300)}`;
      }
    },
  };
}

/** @type {Record<string, (opts: import('./types.js').LoadOptions, stats: ScriptStats) => AutocannonRequest>} */
const SCRIPTS = { refresh: refreshScript, introspect: introspectScript, dpop: dpopScript, code: codeScript };

/**
 * @typedef {{ id: number, type: 'pool', tokens: string[] } | { id: number, type: 'peek' }
 *   | { id: number, type?: undefined, script: string, opts: import('./types.js').LoadOptions }} Message
 */

process.on('message', async (/** @type {Message} */ msg) => {
  if (msg.type === 'pool') {
    pool = [...msg.tokens];
    process.send?.({ id: msg.id, result: { pool: pool.length } });
    return;
  }
  if (msg.type === 'peek') {
    process.send?.({ id: msg.id, result: { pool: pool.length, sample: pool[0] } });
    return;
  }
  const { id, script, opts } = msg;
  try {
    const make = SCRIPTS[script];
    if (!make) throw new Error(`unknown script ${script}`);
    /** @type {ScriptStats} */
    const stats = { ok: 0, bad: 0, starved: 0, firstBad: null, poolBefore: pool.length };
    const { url, method, headers, body, connections, duration, amount } = opts;
    const result = await runAutocannon({
      url,
      connections,
      ...(amount ? { amount } : { duration }),
      requests: [{ method, headers, body, ...make(opts, stats) }],
    });
    process.send?.({ id, result: { ...result, script: { ...stats, poolAfter: pool.length } } });
  } catch (/** @type {any} */ err) {
    process.send?.({ id, error: err?.stack ?? String(err) });
  }
});
process.on('SIGTERM', () => process.exit(0));
process.send?.({ ready: true });

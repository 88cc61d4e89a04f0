// @ts-check
/**
 * Phase 4b, on phase 4's Grantor (rate limits off, access log on): the grant types other than
 * client_credentials (phase 2) and refresh_token (phase 4), at the refresh grant's connection
 * counts, so every grant type has its p99 at c=10 and its spread at c=50 (issue #14 item 2):
 *   - authorization_code, redeemed by a confidential web app (client_secret_basic, PKCE). Each
 *     request spends a code of its own: before each run the bench signs the person in once and
 *     asks GET /oauth/authorize for a run's codes (consent remembered: one 302 each), and the
 *     scripted load generator sends each once ('code' script), the run lasting as long as they do.
 *     The codes are made before the run, not during it: the rate is the redemption's alone.
 *   - token exchange (RFC 8693): a confidential backend (any grant type: the policy is the API's list), listed in a second API's
 *     token_exchange_clients, exchanges the person's access token (from that code flow) for one
 *     to the second API, acting for the person. The same subject token every time (it stays valid):
 *     each exchange makes a grant of its own.
 */
import { Person } from '../browserless.js';
import { REDIRECT_URI } from '../delegated.js';
import { BENCH_SCOPE } from '../grantor-server.js';
import { BenchBroken, basicAuth } from '../load-runs.js';
import { fmt } from '../report.js';

const DOWNSTREAM = 'https://downstream.bench.example';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Codes asked for at once while stocking the pool. */
const CODE_LANES = 16;
/** Codes redeemed per second in the warm-up, a guess to stock it with. */
const WARMUP_RATE_GUESS = 500;
/** The rate expected of the first run over the warm-up's. */
const WARM_OVER_COLD = 1.5;

/**
 * @param {{ grantor: import('../types.js').GrantorServer, credentials: { username: string, password: string },
 *   tools: import('../types.js').LoadTools,
 *   config: Pick<import('../types.js').BenchConfig, 'seconds' | 'warmupSeconds' | 'warmupConnections' | 'refreshConnections'> }} o
 */
export async function measureOtherGrants({ grantor, credentials, tools, config }) {
  tools.log('4b/9 Grantor authorization_code and token exchange');
  const web = await grantor.cli(['clients', 'create', '--name', 'Bench Web App', '--grant-types', 'authorization_code', '--redirect-uris', REDIRECT_URI, '--scopes', BENCH_SCOPE, '--json']);
  const backend = await grantor.cli(['clients', 'create', '--name', 'Bench Backend', '--grant-types', 'client_credentials', '--scopes', BENCH_SCOPE, '--json']);
  await grantor.cli(['resources', 'create', '--identifier', DOWNSTREAM, '--name', 'Bench Downstream API', '--scope', `${BENCH_SCOPE}=read downstream things`, '--token-exchange-client', backend.client_id, '--json']);
  const person = new Person({ baseUrl: grantor.url, clientId: web.client_id, redirectUri: REDIRECT_URI, scope: grantor.scope, resource: grantor.resource });
  const first = await person.signInAndConsent(credentials);
  const tokenUrl = `${grantor.url}/oauth/token`;
  // authorization_code: the request without its code (the 'code' script appends one per request)
  const codeReq = {
    url: tokenUrl,
    method: 'POST',
    headers: { authorization: basicAuth(web.client_id, web.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=authorization_code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
  };
  const redeemed = await fetch(tokenUrl, { ...codeReq, body: `${codeReq.body}&${codeFields(first)}` });
  const subject = await redeemed.json();
  if (redeemed.status !== 200 || typeof subject.access_token !== 'string') throw new BenchBroken(`the web app's first code redemption answered ${redeemed.status} ${JSON.stringify(subject)}`);

  // A code run sends the pool's whole stock, once each (autocannon's `amount`), so it never runs
  // out: stocked for `seconds` at the rate expected, it lasts about that long (the time taken is
  // reported with the run).
  const stock = async (/** @type {number} */ count) => {
    const made = await mintCodes(person, count);
    await tools.scripted.setPool(made.codes);
    tools.log(`  ${fmt.int(count)} codes made in ${made.seconds.toFixed(1)} s (${fmt.int(count / made.seconds)}/s)`);
    return count;
  };
  const warmCount = await stock(Math.ceil(WARMUP_RATE_GUESS * config.warmupSeconds));
  tools.log(`  grantor: authorization_code warm-up, ${fmt.int(warmCount)} codes`);
  const warm = await tools.scripted.run('code', { ...codeReq, connections: config.warmupConnections, amount: warmCount });
  if ((warm.script?.bad ?? 0) > 0 || warm.errors > 0) throw new BenchBroken(`authorization_code warm-up: ${warm.script?.bad} failed (${warm.script?.firstBad}), ${warm.errors} errors\n${grantor.logs()}`);
  // A warm server redeems faster than the warm-up's (cold) rate.
  let expected = (WARM_OVER_COLD * warm.total) / warm.duration;
  const authorizationCode = [];
  for (const c of config.refreshConnections) {
    const count = await stock(Math.ceil(expected * config.seconds));
    const run = await tools.scriptedLoad(grantor, `POST /oauth/token grant_type=authorization_code (${fmt.int(count)} codes)`, 'code', { ...codeReq, amount: count }, c, config.seconds);
    expected = run.rps;
    authorizationCode.push(run);
  }
  await tools.scripted.setPool([]);

  // token exchange
  const exchangeReq = {
    url: tokenUrl,
    method: 'POST',
    headers: { authorization: basicAuth(backend.client_id, backend.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: subject.access_token, subject_token_type: ACCESS_TOKEN_TYPE, resource: DOWNSTREAM }).toString(),
  };
  const sample = await fetch(tokenUrl, exchangeReq);
  const exchanged = await sample.json();
  if (sample.status !== 200 || exchanged.issued_token_type !== ACCESS_TOKEN_TYPE) throw new BenchBroken(`a token exchange answered ${sample.status} ${JSON.stringify(exchanged)}`);
  await tools.warmUp(grantor, exchangeReq);
  const tokenExchange = [];
  for (const c of config.refreshConnections) tokenExchange.push(await tools.load(grantor, 'POST /oauth/token grant_type=token-exchange', exchangeReq, c, config.seconds));
  return { authorizationCode, tokenExchange };
}

/** A code's form fields for its redemption. */
const codeFields = (/** @type {{ code: string, verifier: string }} */ { code, verifier }) => `code=${encodeURIComponent(code)}&code_verifier=${verifier}`;

/**
 * `count` fresh codes of a signed-in person who consented already, `CODE_LANES` at a time.
 * @param {Person} person
 * @param {number} count
 */
async function mintCodes(person, count) {
  const t0 = performance.now();
  /** @type {string[]} */
  const codes = [];
  let asked = 0;
  const lane = async () => {
    while (asked < count) {
      asked++;
      codes.push(codeFields(await person.code()));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CODE_LANES, count) }, lane));
  return { codes, seconds: (performance.now() - t0) / 1000 };
}

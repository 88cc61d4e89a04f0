// @ts-check
/**
 * Phases 4–6b, on a Grantor of their own with rate limits off (they drive one public app's refresh
 * chains and one introspecting resource server far past the per-client limit of 1200/min), access
 * log on:
 *   4. the refresh grant: refresh tokens seeded through the authorization code flow over HTTP
 *      (bench/browserless.js), then every request rotates; each connection chains on the successor
 *      it got back (bench/scripted-load-child.js)
 *   4b. authorization_code and token exchange at the same connection counts (./other-grants.js)
 *   5. POST /oauth/introspect of a valid access token by a client with `introspect`: Grantor as
 *      issue #14 was filed (bench/as-filed.js), today's through koa (`?via=koa`) and on the lean
 *      path, back to back
 *   6. the resource-server module's µs per verify against bare jose (bench/verify-cost.js), in
 *      this process, Grantor idle
 *   6b. client authentication timing (bench/client-auth-timing.js)
 */
import { buildAsFiled, startAsFiled } from '../as-filed.js';
import { seedRefreshTokens } from '../browserless.js';
import { measureClientAuthTiming } from '../client-auth-timing.js';
import { prepareDelegated } from '../delegated.js';
import { LIMITS_OFF, startGrantor } from '../grantor-server.js';
import { BenchBroken, basicAuth, introspect, VIA_KOA } from '../load-runs.js';
import { fmt } from '../report.js';
import { clientCredentialsToken } from '../resource-server-module.js';
import { measureVerifyCost } from '../verify-cost.js';
import { measureOtherGrants } from './other-grants.js';

/**
 * @param {{ tools: import('../types.js').LoadTools, config: Pick<import('../types.js').BenchConfig,
 *   'seconds' | 'warmupSeconds' | 'warmupConnections' | 'refreshSeed' | 'refreshConnections' | 'introspectConnections'
 *   | 'verifyRounds' | 'verifyIterations' | 'timingTries' | 'timingWarmup'> }} o
 */
export async function measureDelegatedAccess({ tools, config }) {
  const grantor = await startGrantor({ env: LIMITS_OFF });
  try {
    const delegated = await prepareDelegated(grantor);
    const refresh = await measureRefresh({ grantor, delegated, tools, config });
    const otherGrants = await measureOtherGrants({ grantor, credentials: { username: delegated.username, password: delegated.password }, tools, config });
    const introspection = await measureIntrospection({ grantor, delegated, tools, config });
    tools.log(`6/9 resource-server module: cost per verification (${config.verifyRounds} rounds × ${config.verifyIterations} per variant)`);
    const verifyCost = await measureVerifyCost({ grantor, token: introspection.accessToken, rounds: config.verifyRounds, iterations: config.verifyIterations });
    // 6b. does the answer time tell whether a client_id exists?
    tools.log('6/9 client authentication timing: wrong secret vs unknown client_id (interleaved)');
    const authTiming = await measureClientAuthTiming({ grantor, tries: config.timingTries, warmup: config.timingWarmup, log: tools.log });
    return { refresh, otherGrants, introspection, verifyCost, authTiming };
  } finally {
    await grantor.stop();
  }
}

/** @typedef {Awaited<ReturnType<typeof prepareDelegated>>} Delegated */

/**
 * 4. Seeds refresh tokens, then rotates them under load; afterwards a token left in the pool must
 * still be active (no reuse was detected, the grant stands).
 * @param {{ grantor: import('../types.js').GrantorServer, delegated: Delegated, tools: import('../types.js').LoadTools,
 *   config: Pick<import('../types.js').BenchConfig, 'seconds' | 'warmupSeconds' | 'warmupConnections' | 'refreshSeed' | 'refreshConnections'> }} o
 */
async function measureRefresh({ grantor, delegated, tools, config }) {
  tools.log('4/9 Grantor refresh grant');
  const seed = await seedRefreshTokens({ person: delegated.person, username: delegated.username, password: delegated.password, count: config.refreshSeed });
  if (new Set(seed.tokens).size !== config.refreshSeed) throw new BenchBroken(`seeding gave ${new Set(seed.tokens).size} distinct refresh tokens, not ${config.refreshSeed}`);
  tools.log(`  seeded ${seed.tokens.length} refresh tokens through the code flow in ${seed.seconds.toFixed(1)} s (${fmt.int(seed.tokens.length / seed.seconds)}/s)`);
  await tools.scripted.setPool(seed.tokens);
  const req = { url: `${grantor.url}/oauth/token`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, clientId: delegated.app.client_id };
  // As long as phase 2's server ran before its c=10 run (its warm-up and the c=1 run): a server's
  // first seconds of refreshes cost ~25 % more CPU each than the next ones (side by side: ~1,530
  // against ~2,030 req/s at c=10), and the ratio to client_credentials compares like with like.
  const warmupSeconds = config.warmupSeconds + config.seconds;
  tools.log(`  grantor: refresh warm-up ${warmupSeconds} s (phase 2's warm-up and its c=1 run)`);
  const warm = await tools.scripted.run('refresh', { ...req, connections: config.warmupConnections, duration: warmupSeconds });
  if ((warm.script?.bad ?? 0) > 0 || warm.errors > 0) throw new BenchBroken(`refresh warm-up: ${warm.script?.bad} failed rotations (${warm.script?.firstBad}), ${warm.errors} errors\n${grantor.logs()}`);
  const runs = [];
  for (const c of config.refreshConnections) runs.push(await tools.scriptedLoad(grantor, 'POST /oauth/token grant_type=refresh_token', 'refresh', req, c, config.seconds));
  const pooled = await tools.scripted.peekPool();
  const checked = pooled.sample ? await introspect(grantor.url, delegated.rs, pooled.sample) : { active: false };
  return { seed: { count: seed.tokens.length, seconds: seed.seconds }, runs, chainCheck: { poolLeft: pooled.pool, active: checked.active === true, tokenType: typeof checked.token_type === 'string' ? checked.token_type : undefined } };
}

/**
 * 5. Introspection of a valid access token by a resource server (the `introspect` permission):
 * Grantor as issue #14 was filed (bench/as-filed.js, also with rate limits off: "today's rate" of
 * its item 4), then today's through koa and on the lean path, back to back.
 * @param {{ grantor: import('../types.js').GrantorServer, delegated: Delegated, tools: import('../types.js').LoadTools,
 *   config: Pick<import('../types.js').BenchConfig, 'seconds' | 'warmupSeconds' | 'warmupConnections' | 'introspectConnections'> }} o
 */
async function measureIntrospection({ grantor, delegated, tools, config }) {
  tools.log('5/9 Grantor introspection: as issue #14 was filed, through koa, on the lean path');
  const tree = await buildAsFiled();
  if ('skipped' in tree) tools.log(`  ${tree.skipped}`);
  let asFiled = null;
  if ('dir' in tree) {
    const filed = await startAsFiled({ dir: tree.dir, env: LIMITS_OFF, introspection: true });
    try {
      const { req } = await warmIntrospection(filed, /** @type {{ client_id: string, client_secret: string }} */ (filed.rs), tools, config);
      asFiled = await tools.scriptedLoad(filed, 'POST /oauth/introspect as filed', 'introspect', req, config.introspectConnections, config.seconds);
    } finally {
      await filed.stop();
    }
  }
  const { accessToken, req } = await warmIntrospection(grantor, delegated.rs, tools, config);
  const koa = await tools.scriptedLoad(grantor, 'POST /oauth/introspect via koa', 'introspect', { ...req, url: `${req.url}${VIA_KOA}` }, config.introspectConnections, config.seconds);
  const lean = await tools.scriptedLoad(grantor, 'POST /oauth/introspect', 'introspect', req, config.introspectConnections, config.seconds);
  return { accessToken, asFiled, asFiledSkipped: 'skipped' in tree ? tree.skipped : null, koa, lean };
}

/**
 * A fresh client_credentials token of `server`'s, checked active when `rs` introspects it, and
 * the introspection request after a warm-up with it.
 * @param {import('../types.js').BenchTarget} server
 * @param {{ client_id: string, client_secret: string }} rs
 * @param {import('../types.js').LoadTools} tools
 * @param {Pick<import('../types.js').BenchConfig, 'warmupSeconds' | 'warmupConnections'>} config
 */
async function warmIntrospection(server, rs, tools, config) {
  const accessToken = await clientCredentialsToken(server.url, { clientId: server.clientId, clientSecret: server.clientSecret, scope: server.scope, resource: server.resource });
  const introspected = await introspect(server.url, rs, accessToken);
  if (introspected.active !== true) throw new BenchBroken(`${server.name}: introspection of a fresh access token answered ${JSON.stringify(introspected)}`);
  const req = {
    url: `${server.url}/oauth/introspect`,
    method: 'POST',
    headers: { authorization: basicAuth(rs.client_id, rs.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken }).toString(),
  };
  tools.log(`  ${server.name}: introspection warm-up ${config.warmupSeconds} s`);
  const warm = await tools.scripted.run('introspect', { ...req, connections: config.warmupConnections, duration: config.warmupSeconds });
  if ((warm.script?.bad ?? 0) > 0 || warm.errors > 0) throw new BenchBroken(`${server.name}: introspection warm-up: ${warm.script?.bad} bad answers (${warm.script?.firstBad}), ${warm.errors} errors\n${server.logs?.() ?? ''}`);
  return { accessToken, req };
}

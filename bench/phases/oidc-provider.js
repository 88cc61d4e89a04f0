// @ts-check
/**
 * Phase 8: node-oidc-provider v9 doing phase 2's job (POST /token client_credentials at each
 * concurrency, own child process), then 8b its refresh grant, the job of phase 4: a public client's
 * refresh tokens, seeded through its own authorization code flow, rotated by the same scripted load
 * at the same concurrencies.
 */
import { BenchBroken, tokenRequest, verifyIssuance } from '../load-runs.js';
import { startOidcProvider } from '../oidc-provider-peer.js';
import { seedOidcProviderRefreshTokens } from '../oidc-provider-seed.js';
import { BENCH_RESOURCE, BENCH_SCOPE } from '../grantor-server.js';

/**
 * @param {{ tools: import('../types.js').LoadTools, config: Pick<import('../types.js').BenchConfig,
 *   'seconds' | 'warmupSeconds' | 'warmupConnections' | 'oidcConnections' | 'refreshConnections' | 'refreshSeed'> }} o
 */
export async function measureOidcProvider({ tools, config }) {
  tools.log('8/9 node-oidc-provider');
  const oidc = await startOidcProvider({ resource: BENCH_RESOURCE, scope: BENCH_SCOPE });
  try {
    const req = tokenRequest(oidc, oidc.tokenPath);
    const sample = await verifyIssuance(oidc, req);
    await tools.warmUp(oidc, req);
    const token = [];
    for (const c of config.oidcConnections) token.push(await tools.load(oidc, 'POST /token', req, c, config.seconds));
    const seed = await seedOidcProviderRefreshTokens(oidc, { count: config.refreshSeed });
    if (new Set(seed.tokens).size !== config.refreshSeed) throw new BenchBroken(`oidc-provider seeding gave ${new Set(seed.tokens).size} distinct refresh tokens, not ${config.refreshSeed}`);
    tools.log(`  seeded ${seed.tokens.length} oidc-provider refresh tokens through its code flow in ${seed.seconds.toFixed(1)} s`);
    await tools.scripted.setPool(seed.tokens);
    const refreshReq = { url: `${oidc.url}${oidc.tokenPath}`, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, clientId: oidc.spaClientId };
    const warm = await tools.scripted.run('refresh', { ...refreshReq, connections: config.warmupConnections, duration: config.warmupSeconds });
    if ((warm.script?.bad ?? 0) > 0 || warm.errors > 0) throw new BenchBroken(`oidc-provider refresh warm-up: ${warm.script?.bad} failed rotations (${warm.script?.firstBad}), ${warm.errors} errors\n${oidc.logs()}`);
    const refresh = [];
    for (const c of config.refreshConnections) refresh.push(await tools.scriptedLoad(oidc, 'POST /token grant_type=refresh_token', 'refresh', refreshReq, c, config.seconds));
    return { sample, token, seed: { count: seed.tokens.length, seconds: seed.seconds }, refresh };
  } finally {
    await oidc.stop();
  }
}

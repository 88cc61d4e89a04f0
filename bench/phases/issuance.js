// @ts-check
/**
 * Phase 2: Grantor POST /oauth/token client_credentials at each concurrency, on a Grantor started
 * by the caller (phase 3 loads the same server afterwards); then, beside it for scale, the bare
 * signer (bench/bare-signer-child.js: node:http and the same signature, nothing else) at the
 * reference concurrency, Grantor idle — the most any HTTP token server reaches on this machine
 * under this load generator.
 */
import { startBareSigner } from '../bare-signer.js';
import { tokenRequest, verifyGet, verifyIssuance } from '../load-runs.js';

/**
 * @param {{ grantor: import('../types.js').GrantorServer, tools: import('../types.js').LoadTools,
 *   connections: number[], refConnections: number, seconds: number, withBareSigner: boolean }} o
 */
export async function measureIssuance({ grantor, tools, connections, refConnections, seconds, withBareSigner }) {
  tools.log('2/9 Grantor client_credentials');
  const req = tokenRequest(grantor, '/oauth/token');
  const sample = await verifyIssuance(grantor, req);
  await verifyGet(grantor, `${grantor.url}/.well-known/jwks.json`);
  await verifyGet(grantor, `${grantor.url}/.well-known/oauth-authorization-server`);
  await tools.warmUp(grantor, req);
  const runs = [];
  // At the reference concurrency every answer's time is kept: where the p99 comes from (bench/tail.js).
  const at = (/** @type {number} */ c) => (c === refConnections ? { ...req, keepAnswers: true } : req);
  for (const c of connections) runs.push(await tools.load(grantor, 'POST /oauth/token', at(c), c, seconds));
  let bare = null;
  if (withBareSigner) {
    const bareSigner = await startBareSigner({ resource: grantor.resource, scope: grantor.scope });
    try {
      const bReq = tokenRequest(bareSigner, '/oauth/token');
      await verifyIssuance(bareSigner, bReq);
      await tools.warmUp(bareSigner, bReq);
      bare = await tools.load(bareSigner, 'POST (bare signer)', { ...bReq, keepAnswers: true }, refConnections, seconds);
    } finally {
      await bareSigner.stop();
    }
  }
  return { sample, runs, bare };
}

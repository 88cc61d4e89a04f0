import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { checkDpopProof, DPOP_ALGORITHMS, PROOF_MAX_AGE, type ProofKeyCache } from '../resource-server/dpop-proof.js';
import { ResourceServerError } from '../resource-server/errors.js';
import type { Db } from '../store/db.js';
import { recordUsedJti } from '../store/used-jtis.js';
import { currentDpopNonce, dpopNonceValid } from './dpop-nonce.js';

/**
 * RFC 9449 §8.2: with DPOP_NONCES=required, a successful answer to a DPoP request carries the
 * nonce to use next, so a client switches windows without a use_dpop_nonce round trip.
 */
export function nextDpopNonce(deps: Pick<DpopProofDeps, 'clock' | 'secrets' | 'config'>, dpop: string | undefined): Record<string, string> {
  if (dpop === undefined || deps.config.dpopNonces !== 'required') return {};
  return { 'DPoP-Nonce': currentDpopNonce(deps.secrets.dpopNonce, deps.clock.now()) };
}

/** RFC 9449 §5.1 `dpop_signing_alg_values_supported`. */
export { DPOP_ALGORITHMS, PROOF_MAX_AGE };

export type DpopProofDeps = {
  db: Db;
  clock: Clock;
  secrets: { dpopNonce: string };
  config: Pick<Config, 'dpopNonces'>;
  /** Imported proof keys, kept between requests (one per process, built in deps.ts). */
  dpopProofKeys?: ProofKeyCache;
};

export interface ProofRequest {
  /** The DPoP header as received (several headers arrive joined by commas). */
  proof: string;
  /** The request's method (`htm`). */
  method: string;
  /** The request's URL as the issuer publishes it (`htu`), never taken from the Host header. */
  url: string;
}

/**
 * RFC 9449 §4.3 at the authorization server: the stateless checks of checkDpopProof()
 * (src/resource-server/dpop-proof.ts, the same for APIs), then the server nonce when
 * DPOP_NONCES=required (§8; answered `use_dpop_nonce` with a fresh `DPoP-Nonce`), then single use
 * of the `jti`, decided by the database across every instance for as long as the proof could be
 * accepted (§11.1). Returns the thumbprint of the proof's key; throws `invalid_dpop_proof`.
 */
export async function verifyDpopProof(deps: DpopProofDeps, request: ProofRequest): Promise<{ jkt: string }> {
  const now = deps.clock.now();
  let checked;
  try {
    checked = await checkDpopProof(request.proof, { method: request.method, url: request.url, now, keys: deps.dpopProofKeys });
  } catch (err) {
    if (err instanceof ResourceServerError) throw new OAuthError('invalid_dpop_proof', 'the DPoP proof is invalid', { detail: err.message });
    throw err;
  }
  if (deps.config.dpopNonces === 'required' && !dpopNonceValid(deps.secrets.dpopNonce, checked.nonce, now)) {
    throw new OAuthError('use_dpop_nonce', 'the DPoP proof must carry the server nonce', {
      detail: checked.nonce === undefined ? 'no nonce' : 'stale or foreign nonce',
      headers: { 'DPoP-Nonce': currentDpopNonce(deps.secrets.dpopNonce, now) },
    });
  }
  if (!(await recordUsedJti(deps.db, [checked.jkt, checked.jti], checked.acceptableUntil))) {
    throw new OAuthError('invalid_dpop_proof', 'the DPoP proof is invalid', { detail: 'jti already used' });
  }
  return { jkt: checked.jkt };
}

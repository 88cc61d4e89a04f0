import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { recordDpopProof } from '../store/dpop-proofs.js';
import { currentDpopNonce, dpopNonceValid } from './dpop-nonce.js';

/** RFC 9449 §5.1 `dpop_signing_alg_values_supported`: the proof algorithms accepted. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** Seconds a proof's `iat` may lie in the past (RFC 9449 §11.1: a short window) or in the future (clock skew). */
export const PROOF_MAX_AGE = 60;
export const PROOF_MAX_SKEW = 10;

/** Largest proof accepted, in characters (an RSA-4096 key and the claims fit well within). */
const MAX_PROOF_LENGTH = 4096;

export type DpopProofDeps = {
  db: Db;
  clock: Clock;
  secrets: { dpopNonce: string };
  config: Pick<Config, 'dpopNonces'>;
};

export interface ProofRequest {
  /** The DPoP header as received (several headers arrive joined by commas). */
  proof: string;
  /** The request's method (`htm`). */
  method: string;
  /** The request's URL as the server publishes it (`htu`), never taken from the Host header. */
  url: string;
  /** The access token the request presents, when there is one (`ath`, RFC 9449 §4.3 step 12). */
  accessToken?: string;
}

const invalidProof = (detail: string) => new OAuthError('invalid_dpop_proof', 'the DPoP proof is invalid', { detail });

/**
 * RFC 9449 §4.3: checks a DPoP proof and returns the JWK SHA-256 thumbprint (RFC 7638) of its key.
 * One header only; a JWT of `typ` dpop+jwt signed with an allowed asymmetric `alg` by the public
 * `jwk` of its header (never a private key); `htm` and `htu` (query and fragment ignored,
 * normalised per RFC 3986 §6.2.2–6.2.3) match the request; `iat` within a short window; `ath` the
 * hash of the access token when one is presented, absent otherwise; the server nonce when
 * DPOP_NONCES=required; and its `jti` used once, decided by the database across every instance
 * for as long as the proof could be accepted. Throws `invalid_dpop_proof`, or `use_dpop_nonce`
 * with a fresh `DPoP-Nonce` header (§8).
 */
export async function verifyDpopProof(deps: DpopProofDeps, request: ProofRequest): Promise<{ jkt: string }> {
  const { proof } = request;
  // §4.3 step 1: exactly one DPoP header (node joins repeated ones with ", "); step 2: a JWT.
  if (proof.length > MAX_PROOF_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) throw invalidProof('not one well-formed JWS');
  const now = deps.clock.now();

  let header: { jwk?: JWK };
  let payload: Record<string, unknown>;
  try {
    // Steps 3–7: typ dpop+jwt, an allowed asymmetric alg, a public jwk, the signature by that key.
    // jose's EmbeddedJWK refuses a private or symmetric key.
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS], currentDate: new Date(now * 1000) });
    header = verified.protectedHeader as { jwk?: JWK };
    payload = verified.payload as Record<string, unknown>;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) throw invalidProof(`proof JWS: ${(err as Error).message}`);
    throw err;
  }
  const jwk = header.jwk!;
  // Belt and braces to jose: no private members at all (RFC 9449 §4.2 "MUST NOT contain a private key").
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) if (member in jwk) throw invalidProof(`jwk carries the private member ${member}`);

  // Step 8–9: htm and htu.
  if (payload.htm !== request.method) throw invalidProof('htm does not match the request method');
  const htu = normalizeHtu(request.url);
  if (htu === undefined || typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== htu) throw invalidProof('htu does not match the request URL');
  // Step 11: iat within the window.
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw invalidProof('iat missing');
  if (payload.iat < now - PROOF_MAX_AGE || payload.iat > now + PROOF_MAX_SKEW) throw invalidProof('iat outside the acceptance window');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw invalidProof('jti missing or too long');
  // Step 12: ath is the access token's hash where one is presented, and absent where none is.
  if (request.accessToken !== undefined) {
    if (payload.ath !== accessTokenHash(request.accessToken)) throw invalidProof('ath does not match the access token');
  } else if (payload.ath !== undefined) {
    throw invalidProof('ath without an access token');
  }
  // Step 10 and §8: the server nonce.
  if (deps.config.dpopNonces === 'required' && !dpopNonceValid(deps.secrets.dpopNonce, payload.nonce, now)) {
    throw new OAuthError('use_dpop_nonce', 'the DPoP proof must carry the server nonce', {
      detail: payload.nonce === undefined ? 'no nonce' : 'stale or foreign nonce',
      headers: { 'DPoP-Nonce': currentDpopNonce(deps.secrets.dpopNonce, now) },
    });
  }

  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  // §11.1: a proof is used once. Kept until its iat leaves the window, then pruned.
  const expiresAt = Math.ceil(payload.iat) + PROOF_MAX_AGE + 1;
  if (!(await recordDpopProof(deps.db, jkt, payload.jti, expiresAt))) throw invalidProof('jti already used');
  return { jkt };
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * `htu` compared as RFC 9449 §4.3 step 9 says: without query and fragment, after syntax- and
 * scheme-based normalisation (RFC 3986 §6.2.2–6.2.3: case of scheme and host, default port,
 * dot segments, percent-encoding case), which WHATWG URL parsing does. Undefined when not an
 * http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  url.search = '';
  url.hash = '';
  if (url.username || url.password) return undefined;
  // Percent-encoding case (§6.2.2.1): %2f and %2F are the same octet.
  return url.href.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
}

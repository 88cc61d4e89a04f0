import { createHash } from 'node:crypto';
import { errors as joseErrors, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';
import { ResourceServerError } from './errors.js';

/** RFC 9449 §5.1 / §7.1: the proof algorithms accepted by default (asymmetric only). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** Default seconds a proof's `iat` may lie in the past (RFC 9449 §11.1: a short window), and in the future (clock skew). */
export const PROOF_MAX_AGE = 60;
export const PROOF_MAX_SKEW = 10;

/** Largest proof accepted, in characters (an RSA-4096 key and the claims fit well within). */
const MAX_PROOF_LENGTH = 4096;

export interface DpopProofCheck {
  /** The request's method (`htm`). */
  method: string;
  /** The request's URL as the server publishes it (`htu`), never rebuilt from a Host header it does not trust. */
  url: string;
  /** The access token the request presents, if any: `ath` must be its hash, and absent when none (§4.3 step 12). */
  accessToken?: string;
  /** Current time, epoch seconds. */
  now: number;
  algorithms?: readonly string[];
  maxAge?: number;
  /** Where imported proof keys are kept between calls (createProofKeyCache()). */
  keys?: ProofKeyCache;
  maxSkew?: number;
}

/** What a proof that passed says: its key's thumbprint and what single use and nonces are decided on. */
export interface CheckedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key (`cnf.jkt` of tokens bound to it). */
  jkt: string;
  jti: string;
  iat: number;
  nonce: unknown;
  /** Until when (epoch seconds) the proof could be accepted: how long its jti must be remembered. */
  acceptableUntil: number;
}

const invalid = (message: string) => new ResourceServerError('invalid_dpop_proof', message);

/** RFC 7638 §3.2: the members of each key type that make up its thumbprint, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
/** Members a public JWK may not carry (RFC 9449 §4.2: "MUST NOT contain a private key"; `k`: symmetric). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export interface ProofKey {
  key: CryptoKey;
  jkt: string;
}

/**
 * Imported proof keys by algorithm and thumbprint: a client signs its proofs with one key for
 * many requests, and importing it (WebCrypto) costs more than verifying the signature. Bounded:
 * past `max` entries the oldest goes. One per verifier (and one per Grantor), passed to
 * checkDpopProof(); without one, every proof's key is imported afresh.
 */
export interface ProofKeyCache {
  get(id: string): Promise<ProofKey> | undefined;
  set(id: string, key: Promise<ProofKey>): void;
  delete(id: string): void;
}

export function createProofKeyCache(max = 1000): ProofKeyCache {
  const keys = new Map<string, Promise<ProofKey>>();
  return {
    get: (id) => keys.get(id),
    set(id, key) {
      if (keys.size >= max) keys.delete(keys.keys().next().value as string);
      keys.set(id, key);
    },
    delete: (id) => void keys.delete(id),
  };
}

/** The header's `jwk` as a verification key, refused unless an asymmetric public key (RFC 9449 §4.3 step 6). */
function proofKeyOf(header: JWTHeaderParameters, cache: ProofKeyCache | undefined): Promise<ProofKey> {
  const jwk = header.jwk as JWK | undefined;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('no jwk in the header');
  for (const member of PRIVATE_MEMBERS) if (member in jwk) throw invalid(`jwk carries the private member ${member}`);
  const members = THUMBPRINT_MEMBERS[jwk.kty as string];
  if (!members || members.some((m) => typeof (jwk as Record<string, unknown>)[m] !== 'string')) throw invalid('jwk is not an EC, RSA or OKP public key');
  const publicMembers = Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]]));
  const canonical = JSON.stringify(publicMembers);
  const jkt = createHash('sha256').update(canonical).digest('base64url');
  const id = `${header.alg} ${jkt}`;
  let entry = cache?.get(id);
  if (!entry) {
    // Only the members the thumbprint names are imported: every JWK of one thumbprint is then the
    // same key, so none (one with `key_ops: []` that verifies nothing, say) can take the cache's
    // place of the real one and lock its holder out.
    entry = importJWK({ ...publicMembers, ext: true } as JWK, header.alg).then((key) => {
      if (!('type' in key) || key.type !== 'public') throw invalid('jwk is not a public key');
      return { key, jkt };
    });
    // A key that failed to import is not remembered (nor is its failure).
    entry.catch(() => cache?.delete(id));
    cache?.set(id, entry);
  }
  return entry;
}

/**
 * RFC 9449 §4.3 steps 1–9, 11 and 12: the checks of a DPoP proof that need no state. One header
 * (repeated headers arrive joined by commas, which no JWS contains); a JWT of `typ` dpop+jwt
 * signed with an allowed asymmetric `alg` by the public `jwk` of its header (never a private or
 * symmetric key); `htm` and `htu` (query and fragment ignored, normalised) match the request;
 * `iat` within the window; `jti` present; `ath` the access token's hash when one is presented.
 * The caller decides the rest: the nonce (step 10) and single use of the jti (§11.1).
 * Throws ResourceServerError `invalid_dpop_proof`.
 *
 * @example
 * ```ts
 * const { jkt } = await checkDpopProof(req.headers.dpop, { method: 'GET', url: 'https://api.example.com/photos', accessToken, now });
 * ```
 */
export async function checkDpopProof(proof: string, check: DpopProofCheck): Promise<CheckedProof> {
  if (proof.length > MAX_PROOF_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) throw invalid('not one well-formed JWS');
  const maxAge = check.maxAge ?? PROOF_MAX_AGE;
  const maxSkew = check.maxSkew ?? PROOF_MAX_SKEW;
  let jkt = '';
  let payload: Record<string, unknown>;
  try {
    // Steps 3–7: typ, an allowed alg (jose checks it before asking for the key), a public jwk,
    // the signature by that key.
    const verified = await jwtVerify(
      proof,
      async (header) => {
        const proofKey = await proofKeyOf(header, check.keys);
        jkt = proofKey.jkt;
        return proofKey.key;
      },
      { typ: 'dpop+jwt', algorithms: [...(check.algorithms ?? DPOP_ALGORITHMS)], currentDate: new Date(check.now * 1000) },
    );
    payload = verified.payload as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ResourceServerError) throw err;
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) throw invalid(`proof JWS: ${(err as Error).message}`);
    // WebCrypto's own refusals (a DOMException: an EC point off its curve, say) are the proof's fault too.
    throw invalid(`proof key: ${err instanceof Error ? err.name : 'unusable'}`);
  }

  // Steps 8–9.
  if (payload.htm !== check.method) throw invalid('htm does not match the request method');
  const htu = normalizeHtu(check.url);
  if (htu === undefined || typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== htu) throw invalid('htu does not match the request URL');
  // Step 11.
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat missing');
  if (iat < check.now - maxAge || iat > check.now + maxSkew) throw invalid('iat outside the acceptance window');
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalid('jti missing or too long');
  // Step 12.
  if (check.accessToken !== undefined) {
    if (payload.ath !== accessTokenHash(check.accessToken)) throw invalid('ath does not match the access token');
  } else if (payload.ath !== undefined) {
    throw invalid('ath without an access token');
  }
  return { jkt, jti, iat, nonce: payload.nonce, acceptableUntil: Math.ceil(iat) + maxAge + 1 };
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * `htu` compared as RFC 9449 §4.3 step 9 says: without query and fragment, after syntax- and
 * scheme-based normalisation (RFC 3986 §6.2.2–6.2.3: case of scheme and host, default port, dot
 * segments, percent-encoding case), which WHATWG URL parsing does. Undefined when not an http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password) return undefined;
  url.search = '';
  url.hash = '';
  // Percent-encoding case (§6.2.2.1): %2f and %2F are the same octet.
  return url.href.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
}

/**
 * DPoP proofs built by hand with jose (RFC 9449 §4.2), so a test can send every bad variant.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the `cnf.jkt` of tokens bound to this key. */
  jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface ProofOptions {
  /** Claims replacing (or, when undefined, removing) the defaults htm, htu, iat, jti. */
  claims?: Record<string, unknown>;
  /** Header members replacing the defaults (typ dpop+jwt, alg, jwk). */
  header?: Record<string, unknown>;
  /** Sign with this key instead (the header's jwk stays the key's own). */
  signWith?: CryptoKey;
}

/** A proof for `htm` `htu`; `claims` and `header` override (undefined removes a member). */
export async function proof(key: DpopKey, htm: string, htu: string, opts: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = { htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...opts.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...opts.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return new SignJWT(claims as JWTPayload).setProtectedHeader(header as never).sign(opts.signWith ?? key.privateKey);
}

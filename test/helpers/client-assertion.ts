/**
 * private_key_jwt client assertions built by hand with jose (RFC 7523 §2.2, §3), so a test can
 * send every bad variant.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface ClientKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK, with kid and alg, as the client registers it. */
  publicJwk: JWK;
}

export async function clientKey(alg = 'ES256', kid: string = randomUUID()): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface AssertionOptions {
  /** Claims to set or (with undefined) leave out. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Epoch seconds of "now" (default: the real time). */
  now?: number;
}

/** A valid assertion of `clientId` for `audience` (the issuer), unless options say otherwise. */
export async function clientAssertion(key: ClientKey, clientId: string, audience: string, opts: AssertionOptions = {}): Promise<string> {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 60, jti: randomUUID(), ...opts.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...opts.header }).sign(key.privateKey);
}

/** The form parameters that carry an assertion. */
export function assertionParams(assertion: string): Record<string, string> {
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion };
}

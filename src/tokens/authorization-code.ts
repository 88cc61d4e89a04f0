import { randomToken } from '../lib/random.js';
import { hashSecret } from '../lib/secret.js';

/** A new authorization code: 256 random bits, single use; only `hash` is stored (RFC 6749 §10.5). */
export function newAuthorizationCode(): { code: string; hash: string } {
  const code = randomToken(32);
  return { code, hash: hashSecret(code) };
}

export { hashSecret as hashAuthorizationCode };

import { createHmac } from 'node:crypto';
import { randomToken } from '../lib/random.js';
import { hashSecret } from '../lib/secret.js';

/** A new opaque refresh token: 256 random bits; only `hash` is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: hashSecret(token) };
}

/**
 * The successor of a rotated refresh token, derived with a server secret from the token presented:
 * a retry of the same refresh (inside the grace window, or a concurrent duplicate) recomputes the
 * very same successor, so it can be answered again although only hashes are stored. Without the
 * server secret nobody can compute it.
 */
export function successorRefreshToken(serverSecret: string, presented: string): { token: string; hash: string } {
  const token = createHmac('sha256', serverSecret).update(`refresh-successor:${presented}`).digest('base64url');
  return { token, hash: hashSecret(token) };
}

export { hashSecret as hashRefreshToken };

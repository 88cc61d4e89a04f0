import { randomBytes, randomUUID } from 'node:crypto';

/** A random, URL-safe string of `bytes` bytes of entropy (base64url, no padding). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random identifier for rows (grant ids, resource ids, jti). */
export function randomId(): string {
  return randomUUID();
}

import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are 256-bit random strings made by Grantor, so a fast hash is enough to make the
 * stored value useless to a thief (no dictionary to try); passwords get a memory-hard KDF instead.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison of a presented secret against a stored hash (RFC 9700 §2.5 habits). */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(presented));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

import { randomBytes, randomUUID } from 'node:crypto';

/** A random, URL-safe string of `bytes` bytes of entropy (base64url, no padding). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random identifier for rows (grant ids, resource ids, jti). */
export function randomId(): string {
  return randomUUID();
}

/**
 * A new client_id: 16 random bytes, base64url, never beginning with `-`. Command lines read a
 * leading `-` as an option (`grantor clients update -U-QIW…` failed with "unknown option"), so
 * such a draw is drawn again (one of 64 first characters excluded: 127.98 bits instead of 128).
 */
export function newClientId(): string {
  let id: string;
  do id = randomToken(16);
  while (id.startsWith('-'));
  return id;
}

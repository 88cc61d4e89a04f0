import { createHash } from 'node:crypto';
import type { KeyRing } from './key-ring.js';

/** The JWKS document (RFC 7517 §5) as bytes with its ETag, so every GET serves the same buffer. */
export function jwksDocument(ring: KeyRing): { body: string; etag: string } {
  const body = JSON.stringify({ keys: ring.publicJwks() });
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, etag };
}

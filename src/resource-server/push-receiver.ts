import { createHash, timingSafeEqual } from 'node:crypto';
import { ResourceServerError } from './errors.js';
import { MAX_SET_LENGTH, SetError } from './security-event.js';

/** The answer to a pushed SET (RFC 8935 §2.2–2.3), for any HTTP framework. */
export interface SetAnswer {
  status: 202 | 400 | 401 | 503;
  headers: Record<string, string>;
  body: string;
}

/** Request headers as node (lower-case names) or fetch (`Headers`) hand them over. */
export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(', ') : value;
  return undefined;
}

/** RFC 8935 §2.3: a refusal is 400 with `{err, description}` (err from §2.4). */
export const refusal = (status: 400 | 401 | 503, err: string, description: string): SetAnswer => ({
  status,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...(status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}) },
  body: JSON.stringify({ err, description }),
});

/** The answer of a verifier that takes no pushes. */
export const NO_PUSH = refusal(400, 'access_denied', 'this resource server takes no pushed SETs');

/** https, or http on loopback (development and tests), as for protected resource metadata. */
export function checkPushUrl(value: string | undefined): string {
  let url: URL;
  try {
    url = new URL(value ?? '');
  } catch {
    throw new TypeError('revocationEvents.pushEndpointUrl: required for push, an absolute https URL');
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new TypeError('revocationEvents.pushEndpointUrl: must be an https URL');
  return url.href;
}

/**
 * RFC 8935 §2 on the receiving side: the stream's Authorization (compared as SHA-256 hashes in
 * constant time), the media type, one SET that `take` validates and applies. 202 when taken; 400
 * `{err, description}` when the SET is refused (never retried by the transmitter); 503 when the
 * issuer's keys cannot be had now (not the SET's fault: a 5xx has the transmitter retry it).
 * An Authorization that is not the stream's is an HTTP-level failure (§2.3: "the applicable HTTP
 * status code"), 401 with `err` authentication_failed, which the transmitter retries: a restarted
 * receiver PATCHes its new secret onto the stream, and a SET pushed meanwhile with the old one
 * would be dropped for good after a 400 (the bug this pins: test/e2e/ssf-module.test.ts).
 */
export async function answerPushedSet(
  body: string | Uint8Array,
  headers: HeaderBag,
  authorizationHash: Buffer,
  take: (jws: string) => Promise<void>,
): Promise<SetAnswer> {
  const presented = createHash('sha256').update(header(headers, 'authorization') ?? '').digest();
  if (!timingSafeEqual(presented, authorizationHash)) return refusal(401, 'authentication_failed', 'the Authorization header is not the stream’s');
  const type = (header(headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/secevent+jwt') return refusal(400, 'invalid_request', 'Content-Type must be application/secevent+jwt');
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (text.length > MAX_SET_LENGTH) return refusal(400, 'invalid_request', 'the SET is too large');
  try {
    await take(text.trim());
  } catch (err) {
    if (err instanceof SetError) return refusal(400, err.err, err.message);
    if (err instanceof ResourceServerError) return refusal(503, 'temporarily_unavailable', 'the issuer’s keys cannot be fetched now');
    throw err;
  }
  return { status: 202, headers: {}, body: '' };
}

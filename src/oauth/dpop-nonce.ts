import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds of one nonce window; a nonce is accepted in its window and the next (5 to 10 minutes). */
export const NONCE_WINDOW = 300;

function nonceFor(secret: string, window: number): string {
  const mac = createHmac('sha256', secret).update(`dpop-nonce:${window}`).digest('base64url').slice(0, 22);
  return `${window.toString(36)}.${mac}`;
}

/**
 * RFC 9449 §8: the nonce this server hands out now. Stateless: an HMAC of the time window with a
 * secret every instance shares (src/store/server-secrets.ts), so any instance accepts it.
 */
export function currentDpopNonce(secret: string, now: number): string {
  return nonceFor(secret, Math.floor(now / NONCE_WINDOW));
}

/** Whether `nonce` was handed out by an instance of this server in the current or the previous window. */
export function dpopNonceValid(secret: string, nonce: unknown, now: number): boolean {
  if (typeof nonce !== 'string' || nonce.length > 64) return false;
  const window = Math.floor(now / NONCE_WINDOW);
  return [window, window - 1].some((w) => {
    const expected = Buffer.from(nonceFor(secret, w));
    const given = Buffer.from(nonce);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

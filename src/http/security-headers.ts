import type { Context, Next } from 'koa';

/** Headers every answer carries: no sniffing, no framing, no referrer leaks. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

/** Sets SECURITY_HEADERS on every answer that goes through koa (the lean path sets them itself). */
export function securityHeaders() {
  return async function securityHeadersMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.set({ ...SECURITY_HEADERS });
    await next();
  };
}

import type { Context, Next } from 'koa';

/** Headers every answer carries: no sniffing, no framing, no referrer leaks. */
export function securityHeaders() {
  return async function securityHeadersMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  };
}

import type { Context, Next } from 'koa';

/** RFC 6749 §5.1: token responses carry Cache-Control: no-store and Pragma: no-cache. */
export function noStore() {
  return async function noStoreMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    await next();
  };
}

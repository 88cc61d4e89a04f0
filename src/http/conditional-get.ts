import type { Context } from 'koa';

/**
 * Sets the ETag and answers 304 when If-None-Match names it (weak comparison, RFC 9110 §13.1.2).
 * The check is done here rather than with koa's `ctx.fresh`, which gives up whenever the request
 * says `Cache-Control: no-cache` — and fetch() adds that to every conditional request. That
 * directive is for caches (RFC 9111 §5.2.1.4); the origin may still say "not modified".
 * Returns true when the answer is 304 (and the caller must not set a body).
 */
export function answerNotModified(ctx: Context, etag: string): boolean {
  ctx.set('ETag', etag);
  const header = ctx.get('If-None-Match');
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const matches = header.trim() === '*' || header.split(',').some((tag) => opaque(tag) === opaque(etag));
  if (matches) ctx.status = 304;
  return matches;
}

import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { OAuthError } from '../errors.js';

/**
 * What every request is refused for before any route runs, on the lean token path and on koa
 * alike (the lean path leaves a request it refuses to koa, which answers it here):
 *
 * - RFC 9112 §6.1: a transfer coding other than `chunked` (e.g. `gzip, chunked`) is one Grantor
 *   does not decode; node only removes the chunking, so reading on would take compressed bytes as
 *   the body. 501, as the RFC says.
 * - RFC 9110 §5.3: Authorization and Content-Type are not lists, so a second field line of either
 *   is a malformed request. node keeps only the first in `req.headers`, while a proxy in front may
 *   have acted on the second: 400 invalid_request.
 *
 * Returns the refusal, or undefined for a well-framed request (the usual case allocates nothing).
 */
export function framingError(req: IncomingMessage): OAuthError | undefined {
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    return new OAuthError('invalid_request', 'transfer coding not supported (only chunked)', { status: 501, detail: `Transfer-Encoding: ${coding.slice(0, 100)}` });
  }
  if ((req.headers.authorization !== undefined || req.headers['content-type'] !== undefined) && repeatsSingleField(req.rawHeaders)) {
    return new OAuthError('invalid_request', 'the Authorization or Content-Type header is repeated');
  }
  return undefined;
}

/** koa's side of framingError(): refuses before any route. */
export function requestFraming() {
  return async function requestFramingMiddleware(ctx: Context, next: Next): Promise<void> {
    const refused = framingError(ctx.req);
    if (refused) throw refused;
    await next();
  };
}

function repeatsSingleField(raw: string[]): boolean {
  let authorization = 0;
  let contentType = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization') authorization++;
    else if (name.length === 12 && name.toLowerCase() === 'content-type') contentType++;
  }
  return authorization > 1 || contentType > 1;
}

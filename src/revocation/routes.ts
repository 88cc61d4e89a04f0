import { gzipSync } from 'node:zlib';
import Router from '@koa/router';
import type { Context } from 'koa';
import { OAuthError } from '../errors.js';
import { answerNotModified } from '../http/conditional-get.js';
import { STATUS_LIST_PATH, type StatusList } from './status-list.js';

export type RevocationRouteDeps = { statusList: StatusList; clock: { now(): number } };

/** Publishes the status list token (draft-ietf-oauth-status-list-20 §8). */
export function revocationRoutes(deps: RevocationRouteDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  // The gzip form of the current token, made once per list version (the list changes only on revocation).
  let gzipped: { token: string; body: Buffer; etag: string } | undefined;
  router.get(STATUS_LIST_PATH, async function serveStatusList(ctx: Context) {
    // §8.4: historical resolution is optional; Grantor keeps only the current list.
    if (ctx.query.time !== undefined) {
      throw new OAuthError('invalid_request', 'historical status resolution is not supported', { status: 501 });
    }
    const list = await deps.statusList.current();
    // Caches may keep it for `ttl`, never past its `exp` (§13.7).
    const maxAge = Math.max(0, Math.min(list.exp - deps.clock.now(), list.ttl));
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.vary('Accept-Encoding');
    ctx.type = 'application/statuslist+jwt';
    // The draft's Status List Request section recommends HTTP content compression: `lst` is
    // already zlib-compressed, but its base64url text still shrinks by about a quarter. Each
    // encoding has its own ETag (RFC 9110 §8.8.3).
    if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      if (gzipped?.token !== list.token) gzipped = { token: list.token, body: gzipSync(list.token), etag: `${list.etag.slice(0, -1)}-gzip"` };
      if (answerNotModified(ctx, gzipped.etag)) return;
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = gzipped.body;
      return;
    }
    if (answerNotModified(ctx, list.etag)) return;
    ctx.body = list.token;
  });
  return router;
}

import Router from '@koa/router';
import type { Context } from 'koa';
import { OAuthError } from '../errors.js';
import { answerNotModified } from '../http/conditional-get.js';
import { STATUS_LIST_PATH, type StatusList } from './status-list.js';

export type RevocationRouteDeps = { statusList: StatusList; clock: { now(): number } };

/** Publishes the status list token (draft-ietf-oauth-status-list-20 §8). */
export function revocationRoutes(deps: RevocationRouteDeps): Router {
  const router = new Router();
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
    if (answerNotModified(ctx, list.etag)) return;
    ctx.type = 'application/statuslist+jwt';
    ctx.body = list.token;
  });
  return router;
}

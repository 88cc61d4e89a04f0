import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { OAuthError } from '../errors.js';
import type { LeanEdge, LeanRoute } from '../http/lean-edge.js';
import { prepareDocument, type PreparedDocument } from '../http/prepared-document.js';
import { leanGet, servePrepared, type PreparedRoute } from '../http/prepared-route.js';
import { STATUS_LIST_PATH, type StatusList, type StatusListToken } from './status-list.js';

export type RevocationRouteDeps = { statusList: StatusList; clock: { now(): number } };

/**
 * The status list token's endpoint (draft-ietf-oauth-status-list-20 §8), described once for koa and
 * the lean path (src/http/prepared-route.ts): both encodings are prepared once per signed token.
 */
export function statusListRoute(deps: RevocationRouteDeps): PreparedRoute {
  let prepared: { doc: PreparedDocument; maxAge: number } | undefined;
  function documentOf(list: StatusListToken): PreparedDocument {
    // Caches may keep it for `ttl`, never past its `exp` (§13.7).
    const maxAge = Math.max(0, Math.min(list.exp - deps.clock.now(), list.ttl));
    if (prepared?.doc.source !== list || prepared.maxAge !== maxAge) {
      const doc = prepareDocument({
        source: list,
        body: list.token,
        etag: list.etag,
        contentType: 'application/statuslist+jwt',
        headers: { 'Cache-Control': `public, max-age=${maxAge}`, 'Access-Control-Allow-Origin': '*', Vary: 'Accept-Encoding' },
        // The draft's Status List Request section recommends HTTP content compression: `lst` is
        // already zlib-compressed, but its base64url text still shrinks by about a quarter. Each
        // encoding has its own ETag (RFC 9110 §8.8.3).
        gzip: true,
      });
      prepared = { doc, maxAge };
    }
    return prepared.doc;
  }
  // Between two database checks the token is at hand: answered without a promise (issue #14 item 4).
  const current = () => {
    const ready = deps.statusList.ready();
    return ready ? documentOf(ready) : deps.statusList.current().then(documentOf);
  };
  return { path: STATUS_LIST_PATH, gzip: true, current };
}

/** Publishes the status list token (draft-ietf-oauth-status-list-20 §8). */
export function revocationRoutes(deps: RevocationRouteDeps, route = statusListRoute(deps)): Router {
  const router = new Router({ sensitive: true, strict: true });
  router.get(STATUS_LIST_PATH, refuseHistoricalResolution, servePrepared(route));
  return router;
}

/** The lean path takes no query string, so `?time=` always reaches koa's refusal. */
export function revocationLeanRoutes(edge: LeanEdge, route: PreparedRoute): LeanRoute[] {
  return [leanGet(route, edge)];
}

/** §8.4: historical resolution is optional; Grantor keeps only the current list. */
async function refuseHistoricalResolution(ctx: Context, next: Next): Promise<void> {
  if (ctx.query.time !== undefined) {
    throw new OAuthError('invalid_request', 'historical status resolution is not supported', { status: 501 });
  }
  await next();
}

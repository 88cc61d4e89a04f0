import Router from '@koa/router';
import type { Config } from '../config.js';
import { publicDocumentPreflight } from '../http/cors.js';
import type { LeanEdge, LeanRoute } from '../http/lean-edge.js';
import { leanGet, servePrepared, type PreparedRoute } from '../http/prepared-route.js';
import { jwksDocuments } from './jwks.js';
import type { KeyRing } from './key-ring.js';

export type KeysRouteDeps = { config: Pick<Config, 'jwksMaxAge'>; keyRing: KeyRing };

export const JWKS_PATH = '/.well-known/jwks.json';

/** The JWKS endpoint, described once for koa and the lean path (src/http/prepared-route.ts). */
export function jwksRoute(deps: KeysRouteDeps): PreparedRoute {
  return { path: JWKS_PATH, gzip: false, current: jwksDocuments(deps.keyRing, deps.config.jwksMaxAge) };
}

export function keysRoutes(deps: KeysRouteDeps, route = jwksRoute(deps)): Router {
  const router = new Router({ sensitive: true, strict: true });
  // Browser apps read the JWKS too (issue #11 item 5): a preflight from any origin is answered.
  router.options(JWKS_PATH, publicDocumentPreflight());
  router.get(JWKS_PATH, servePrepared(route));
  return router;
}

export function keysLeanRoutes(edge: LeanEdge, route: PreparedRoute): LeanRoute[] {
  return [leanGet(route, edge)];
}

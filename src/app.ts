/**
 * createApp(deps): the middleware order and each domain's routes; createRequestListener(deps): the
 * lean routes, then koa; createOpsListener(deps): the operations endpoints alone (OPS_PORT);
 * createServers(deps): the node:http servers for them. No logic of their own.
 */
import type { RequestListener, Server } from 'node:http';
import Koa from 'koa';
import type Router from '@koa/router';
import { adminRoutes } from './admin/routes.js';
import type { Deps } from './deps.js';
import { accessLog } from './http/access-log.js';
import { proxyTrust, resolveClientAddress } from './http/client-address.js';
import { renderErrors } from './http/render-errors.js';
import { requestFraming } from './http/request-framing.js';
import { requestId } from './http/request-id.js';
import { securityHeaders } from './http/security-headers.js';
import type { PreparedRoute } from './http/prepared-route.js';
import { jwksRoute, keysLeanRoutes, keysRoutes } from './keys/routes.js';
import { metadataRoutes, oauthLeanRoutes, oauthRoutes } from './oauth/routes.js';
import { openapiRoutes } from './openapi/routes.js';
import { pagesRoutes } from './pages/routes.js';
import { revocationLeanRoutes, revocationRoutes, statusListRoute } from './revocation/routes.js';
import { ssfRoutes } from './ssf/routes.js';
import { healthRoutes } from './http/health.js';
import { measureRequests } from './http/metrics.js';
import { createHttpServer } from './http/server.js';

export type AppDeps = Pick<Deps, 'config' | 'db' | 'clock' | 'logger' | 'keyRing' | 'statusList' | 'secrets' | 'loginLimiter' | 'readCache' | 'verifiedTokens' | 'rotateKeys' | 'metrics' | 'rateLimits' | 'clientKeys' | 'ssf' | 'sealingKey' | 'rotations' | 'reads'>;

/**
 * The GET endpoints served from prepared documents, described once (src/http/prepared-route.ts):
 * koa's routers and the lean routes are built from the same descriptions, so they share the
 * prepared bytes too.
 */
export interface DescribedRoutes {
  metadata: PreparedRoute[];
  jwks: PreparedRoute;
  statusList: PreparedRoute;
}

export function describeRoutes(deps: AppDeps): DescribedRoutes {
  return { metadata: metadataRoutes(deps), jwks: jwksRoute(deps), statusList: statusListRoute(deps) };
}

/** Every router of the app, in order; the OpenAPI test walks the same list. With OPS_PORT the operations routes are not among them. */
export function routers(deps: AppDeps, described = describeRoutes(deps)): Router[] {
  const all = [oauthRoutes(deps, described.metadata), pagesRoutes(deps), keysRoutes(deps, described.jwks), revocationRoutes(deps, described.statusList), adminRoutes(deps), ssfRoutes(deps), openapiRoutes(deps)];
  return deps.config.ops ? all : [...all, operationsRoutes(deps)];
}

function operationsRoutes(deps: AppDeps): Router {
  return healthRoutes({ metrics: deps.metrics, pingDatabase: async () => void (await deps.db.raw('select 1')), keysLoaded: () => deps.keyRing.publicJwks().length > 0 });
}

export function createApp(deps: AppDeps, described = describeRoutes(deps)): Koa {
  const app = new Koa();
  // koa's app.proxy stays off (it would believe the left-most X-Forwarded-For entry): the client
  // address is set by resolveClientAddress, as the lean path finds it.
  // Errors are rendered by renderErrors; koa's own handler would print stacks to stderr.
  app.silent = true;
  app.use(resolveClientAddress(proxyTrust(deps.config.trustProxy)));
  app.use(requestId());
  app.use(accessLog({ logger: deps.logger }));
  app.use(measureRequests(deps.metrics));
  app.use(renderErrors({ logger: deps.logger }));
  app.use(securityHeaders());
  app.use(requestFraming());
  for (const router of routers(deps, described)) app.use(router.routes());
  return app;
}

/** The operations listener (OPS_PORT): /metrics, /healthz and /readyz, nothing else. */
export function createOpsListener(deps: AppDeps): RequestListener {
  const app = new Koa();
  app.silent = true;
  app.use(requestId());
  app.use(renderErrors({ logger: deps.logger }));
  app.use(securityHeaders());
  app.use(requestFraming());
  app.use(operationsRoutes(deps).routes());
  return app.callback();
}

/** The servers main.ts listens with: PORT's, and OPS_PORT's when it is set (src/http/server.ts sets their limits). */
export function createServers(deps: AppDeps): { main: Server; ops: Server | undefined } {
  return {
    main: createHttpServer(deps.config, createRequestListener(deps)),
    ops: deps.config.ops ? createHttpServer(deps.config, createOpsListener(deps)) : undefined,
  };
}

/**
 * The server's request listener: the lean routes first (each takes only requests it answers in
 * full, see src/http/lean-post.ts and src/http/prepared-route.ts), then koa for everything else.
 */
export function createRequestListener(deps: AppDeps): RequestListener {
  const described = describeRoutes(deps);
  const koa = createApp(deps, described).callback();
  const lean = [...oauthLeanRoutes(deps, described.metadata), ...keysLeanRoutes(deps, described.jwks), ...revocationLeanRoutes(deps, described.statusList)];
  return function grantor(req, res) {
    for (const route of lean) if (route(req, res)) return;
    void koa(req, res);
  };
}

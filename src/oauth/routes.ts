import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { cors } from '../http/cors.js';
import { leanPost, type LeanRoute } from '../http/lean-post.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimits } from '../http/rate-limit.js';
import { noStore } from '../http/no-store.js';
import { readForm } from '../http/read-form.js';
import type { StatusList } from '../revocation/status-list.js';
import type { GrantDeps } from './grants/grant.js';
import { handleIntrospectionRequest } from './introspect.js';
import { authorizationServerMetadata, INTROSPECT_PATH, metadataPaths, REVOKE_PATH, TOKEN_PATH } from './metadata.js';
import { handleRevocationRequest } from './revoke.js';
import { handleTokenRequest } from './token-endpoint.js';

export type OAuthRouteDeps = GrantDeps & {
  statusList: StatusList;
  rateLimits: RateLimits;
  metrics: Pick<Metrics, 'tokensIssued' | 'recordRequest'>;
  config: Pick<Config, 'issuer' | 'accessTokenTtl' | 'bodyLimit' | 'jwksMaxAge' | 'trustProxy' | 'clientMetadataDocuments'>;
  logger: Logger;
};

/** The token endpoint itself (RFC 6749 §3.2), whichever way the request came in. */
async function tokenAnswer(deps: OAuthRouteDeps, form: URLSearchParams, authorization: string | undefined) {
  const answer = await handleTokenRequest(deps, { form, authorization });
  deps.metrics.tokensIssued.inc({ grant_type: form.get('grant_type') ?? undefined });
  return answer;
}

/**
 * The token endpoint's hot path, outside koa (src/http/lean-post.ts): a plain same-origin form
 * POST is answered here; everything else (CORS, encodings, oversized bodies) by the koa route below.
 */
export function oauthLeanRoutes(deps: OAuthRouteDeps): LeanRoute[] {
  return [
    leanPost({
      path: TOKEN_PATH,
      limit: deps.config.bodyLimit,
      repeatable: ['resource'],
      trustProxy: deps.config.trustProxy,
      logger: deps.logger,
      metrics: deps.metrics,
      // The koa route's CORS answers vary by Origin; this one is the answer without an Origin.
      headers: { Vary: 'Origin' },
      admit: (ip) => deps.rateLimits.address(ip),
      handle: ({ form, authorization }) => tokenAnswer(deps, form, authorization),
    }),
  ];
}

export function oauthRoutes(deps: OAuthRouteDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  const form = readForm({ limit: deps.config.bodyLimit, repeatable: ['resource'] });
  const authorization = (ctx: Context) => ctx.get('Authorization') || undefined;
  // Browser apps (public clients) call these endpoints from their own origin: CORS for the origins
  // of registered redirect URIs (RFC 6749 §3.2 is silent; OAuth 2.1 browser-based apps need it).
  const browserApps = cors({
    allowOrigin: async (origin) => (await deps.readCache.redirectOrigins()).has(origin),
    methods: ['POST'],
    headers: ['Content-Type', 'Authorization'],
  });
  for (const path of [TOKEN_PATH, REVOKE_PATH, INTROSPECT_PATH]) router.options(path, browserApps);
  // Per-address limit before any work; the per-client one is applied at client authentication.
  const limitAddress = async function limitAddress(ctx: Context, next: Next) {
    await deps.rateLimits.address(ctx.ip);
    await next();
  };

  router.post(TOKEN_PATH, browserApps, noStore(), limitAddress, form, async function tokenEndpoint(ctx: Context) {
    ctx.body = await tokenAnswer(deps, ctx.state.form, authorization(ctx));
  });

  router.post(REVOKE_PATH, browserApps, noStore(), limitAddress, form, async function revocationEndpoint(ctx: Context) {
    await handleRevocationRequest(deps, ctx.state.form, authorization(ctx));
    // RFC 7009 §2.2: 200 whether or not anything was revoked; the body is ignored, but strict
    // clients (simple-oauth2's revokeAll) parse it as JSON, so it is an empty JSON object.
    ctx.status = 200;
    ctx.body = {};
  });

  router.post(INTROSPECT_PATH, browserApps, noStore(), limitAddress, form, async function introspectionEndpoint(ctx: Context) {
    ctx.body = await handleIntrospectionRequest(deps, ctx.state.form, authorization(ctx));
  });

  // RFC 6749 §3.2 (and RFC 7009 §2, RFC 7662 §2): these endpoints take POST only.
  for (const path of [TOKEN_PATH, REVOKE_PATH, INTROSPECT_PATH]) {
    router.all(path, noStore(), function wrongMethod() {
      throw new OAuthError('invalid_request', 'this endpoint accepts POST only', { headers: { Allow: 'POST' } });
    });
  }

  for (const path of metadataPaths(deps.config.issuer)) {
    router.get(path, async function serveMetadata(ctx: Context) {
      ctx.set('Cache-Control', `public, max-age=${deps.config.jwksMaxAge}`);
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.body = await authorizationServerMetadata(deps);
    });
  }
  return router;
}

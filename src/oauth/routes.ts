import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { cors, publicDocumentPreflight } from '../http/cors.js';
import { koaFormPost, type FormRoute } from '../http/form-route.js';
import { leanPost, type LeanRoute } from '../http/lean-post.js';
import { prepareDocument, type PreparedDocument } from '../http/prepared-document.js';
import { leanGet, servePrepared, type PreparedRoute } from '../http/prepared-route.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimits } from '../http/rate-limit.js';
import { noStore } from '../http/no-store.js';
import { readJson } from '../http/read-json.js';
import { deleteRegistration, readRegistration, registerClient, REGISTRATION_PATH, updateRegistration } from '../registry/registration.js';
import type { StatusList } from '../revocation/status-list.js';
import { browserAppMayRead } from './browser-app-origin.js';
import type { GrantDeps } from './grants/grant.js';
import { nextDpopNonce } from './dpop-proof.js';
import { handleIntrospectionRequest } from './introspect.js';
import { authorizationServerMetadata, INTROSPECT_PATH, metadataPaths, REVOKE_PATH, TOKEN_PATH } from './metadata.js';
import { handleRevocationRequest } from './revoke.js';
import { handleTokenRequest } from './token-endpoint.js';

export type OAuthRouteDeps = GrantDeps & {
  statusList: StatusList;
  rateLimits: RateLimits;
  metrics: Pick<Metrics, 'tokensIssued' | 'recordRequest'>;
  config: Pick<Config, 'issuer' | 'baseUrl' | 'accessTokenTtl' | 'bodyLimit' | 'jwksMaxAge' | 'trustProxy' | 'clientMetadataDocuments' | 'registration'>;
  logger: Logger;
};

/** The token endpoint itself (RFC 6749 §3.2), whichever way the request came in. */
async function tokenAnswer(deps: OAuthRouteDeps, form: URLSearchParams, authorization: string | undefined, dpop: string | undefined) {
  const answer = await handleTokenRequest(deps, { form, authorization, dpop });
  deps.metrics.tokensIssued.inc({ grant_type: form.get('grant_type') ?? undefined });
  return answer;
}

/**
 * The form POST endpoints, each described once (src/http/form-route.ts): koa's routes below and
 * the lean paths are built from these descriptions.
 */
export function formRoutes(deps: OAuthRouteDeps) {
  // Browser apps (public clients) call these endpoints from their own origin; which origins may read
  // the answers is decided in one place (src/oauth/browser-app-origin.ts). The client a form names is
  // known once the route read it (a public client's token request without DPoP is a simple request:
  // no preflight comes first).
  const browserApps = cors({
    allowOrigin: (origin, ctx) => browserAppMayRead(deps, origin, (ctx.state.form as URLSearchParams | undefined)?.get('client_id')),
    methods: ['POST'],
    // RFC 9449: browser apps send a DPoP proof and read the DPoP-Nonce answer.
    headers: ['Content-Type', 'Authorization', 'DPoP'],
  });
  const common = {
    limit: deps.config.bodyLimit,
    cors: browserApps,
    // Per-address limit before any work; the per-client one is applied at client authentication.
    admit: (ip: string) => deps.rateLimits.address(ip),
  };
  const token: FormRoute<object> = {
    ...common,
    path: TOKEN_PATH,
    repeatable: ['resource'],
    handle: ({ form, authorization, header }) => tokenAnswer(deps, form, authorization, header('dpop')),
    answerHeaders: (header) => nextDpopNonce(deps, header('dpop')),
  };
  const introspection: FormRoute<object> = {
    ...common,
    path: INTROSPECT_PATH,
    handle: ({ form, authorization }) => handleIntrospectionRequest(deps, form, authorization),
  };
  const revocation: FormRoute<object> = {
    ...common,
    path: REVOKE_PATH,
    async handle({ form, authorization }) {
      await handleRevocationRequest(deps, form, authorization);
      // RFC 7009 §2.2: 200 whether or not anything was revoked; the body is ignored, but strict
      // clients (simple-oauth2's revokeAll) parse it as JSON, so it is an empty JSON object.
      return {};
    },
  };
  return { browserApps, token, introspection, revocation };
}

/**
 * The hot paths, outside koa (src/http/lean-post.ts, src/http/prepared-route.ts): a plain
 * same-origin form POST to the token or introspection endpoint (the resource servers' hot path),
 * a plain GET of the metadata, is answered here; everything else (CORS, encodings, oversized
 * bodies) by the koa routes below, built from the same descriptions.
 */
export function oauthLeanRoutes(deps: OAuthRouteDeps, metadata = metadataRoutes(deps)): LeanRoute[] {
  const edge = { trustProxy: deps.config.trustProxy, logger: deps.logger, metrics: deps.metrics };
  const { token, introspection } = formRoutes(deps);
  return [leanPost({ ...token, ...edge }), leanPost({ ...introspection, ...edge }), ...metadata.map((route) => leanGet(route, deps))];
}

/**
 * RFC 8414 metadata at each of its paths, described once for koa and the lean path
 * (src/http/prepared-route.ts): prepared once per resource list (scopes_supported comes from it).
 */
export function metadataRoutes(deps: OAuthRouteDeps): PreparedRoute[] {
  let prepared: PreparedDocument | undefined;
  async function fetched(): Promise<PreparedDocument> {
    const resources = await deps.readCache.resources();
    if (prepared?.source !== resources) {
      prepared = prepareDocument({
        source: resources,
        body: JSON.stringify(await authorizationServerMetadata(deps)),
        contentType: 'application/json; charset=utf-8',
        headers: { 'Cache-Control': `public, max-age=${deps.config.jwksMaxAge}`, 'Access-Control-Allow-Origin': '*' },
      });
    }
    return prepared;
  }
  // While the read cache holds the list it was made from, the document is at hand: answered without
  // a promise (issue #14 item 4).
  const current = () => {
    const held = deps.readCache.heldResources();
    return held !== undefined && prepared?.source === held ? prepared : fetched();
  };
  return metadataPaths(deps.config.issuer).map((path) => ({ path, gzip: false, current }));
}

export function oauthRoutes(deps: OAuthRouteDeps, metadata = metadataRoutes(deps)): Router {
  const router = new Router({ sensitive: true, strict: true });
  const { browserApps, token, introspection, revocation } = formRoutes(deps);
  for (const path of [TOKEN_PATH, REVOKE_PATH, INTROSPECT_PATH]) router.options(path, browserApps);
  for (const route of [token, revocation, introspection]) router.post(route.path, ...koaFormPost(route));

  // RFC 6749 §3.2 (and RFC 7009 §2, RFC 7662 §2): these endpoints take POST only.
  for (const path of [TOKEN_PATH, REVOKE_PATH, INTROSPECT_PATH]) {
    router.all(path, noStore(), function wrongMethod() {
      throw new OAuthError('invalid_request', 'this endpoint accepts POST only', { headers: { Allow: 'POST' } });
    });
  }

  for (const route of metadata) {
    // Browser apps (an MCP client in a page) discover the server too (issue #11 item 5).
    router.options(route.path, publicDocumentPreflight());
    router.get(route.path, servePrepared(route));
  }
  if (deps.config.registration.policy !== 'off') registrationRoutes(router, deps);
  return router;
}

/**
 * RFC 7591 §3 registration endpoint and RFC 7592 client configuration endpoint, served only when
 * REGISTRATION is not `off`. JSON in and out; answers are never cached (they carry tokens).
 */
function registrationRoutes(router: Router, deps: OAuthRouteDeps): void {
  const json = readJson({ limit: deps.config.bodyLimit, refuseDuplicateMembers: true });
  const ITEM = `${REGISTRATION_PATH}/:client_id`;
  router.options(REGISTRATION_PATH, registrationCors);
  router.options(ITEM, registrationCors);
  router.post(REGISTRATION_PATH, registrationCors, noStore(), async function admitRegistration(ctx, next) {
    await deps.rateLimits.address(ctx.ip);
    await next();
  }, json, async function register(ctx: Context) {
    const registered = await registerClient(deps, ctx.request.body, { address: ctx.ip, authorization: ctx.get('Authorization') || undefined });
    // For whoever polices open registration: who registered, under which name (never the token).
    deps.logger.info({ client_id: registered.client_id, client_name: registered.client_name, software_id: registered.software_id, redirect_uris: registered.redirect_uris, ip: ctx.ip }, 'client registered itself');
    ctx.body = registered;
    ctx.status = 201;
  });
  router.get(ITEM, registrationCors, noStore(), async function readClientRegistration(ctx: Context) {
    ctx.body = await readRegistration(deps, ctx.params.client_id, ctx.get('Authorization') || undefined);
  });
  router.put(ITEM, registrationCors, noStore(), json, async function updateClientRegistration(ctx: Context) {
    ctx.body = await updateRegistration(deps, ctx.params.client_id, ctx.request.body, ctx.get('Authorization') || undefined);
  });
  router.delete(ITEM, registrationCors, noStore(), async function deleteClientRegistration(ctx: Context) {
    await deleteRegistration(deps, ctx.params.client_id, ctx.get('Authorization') || undefined);
    ctx.status = 204;
  });
  router.all(REGISTRATION_PATH, registrationCors, function wrongMethod() {
    throw new OAuthError('method_not_allowed', 'this endpoint accepts POST only', { headers: { Allow: 'POST, OPTIONS' } });
  });
  router.all(ITEM, registrationCors, function wrongMethod() {
    throw new OAuthError('method_not_allowed', 'this endpoint accepts GET, PUT and DELETE only', { headers: { Allow: 'GET, PUT, DELETE, OPTIONS' } });
  });
}

/**
 * Registration is for apps of any origin (a browser app registers itself before any redirect URI
 * of it is known), and it is authenticated by a bearer token, never a cookie: any origin may call
 * it, the origin is echoed, and credentials are never allowed (src/http/cors.ts).
 */
const registrationCors = cors({
  allowOrigin: async () => true,
  methods: ['GET', 'POST', 'PUT', 'DELETE'],
  headers: ['Content-Type', 'Authorization'],
});

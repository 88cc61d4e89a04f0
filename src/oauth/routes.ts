import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { noStore } from '../http/no-store.js';
import { readForm } from '../http/read-form.js';
import type { GrantDeps } from './grants/grant.js';
import { authorizationServerMetadata, metadataPaths, TOKEN_PATH } from './metadata.js';
import { handleTokenRequest } from './token-endpoint.js';

export type OAuthRouteDeps = GrantDeps & { config: Pick<Config, 'issuer' | 'accessTokenTtl' | 'bodyLimit' | 'jwksMaxAge'> };

export function oauthRoutes(deps: OAuthRouteDeps): Router {
  const router = new Router();

  router.post(
    TOKEN_PATH,
    noStore(),
    readForm({ limit: deps.config.bodyLimit, repeatable: ['resource'] }),
    async function tokenEndpoint(ctx: Context) {
      ctx.body = await handleTokenRequest(deps, { form: ctx.state.form, authorization: ctx.get('Authorization') || undefined });
    },
  );

  // RFC 6749 §3.2: the token endpoint takes POST only; other methods are an invalid request.
  router.all(TOKEN_PATH, noStore(), function tokenEndpointWrongMethod() {
    throw new OAuthError('invalid_request', 'the token endpoint accepts POST only', { headers: { Allow: 'POST' } });
  });

  for (const path of metadataPaths(deps.config.issuer)) {
    router.get(path, async function serveMetadata(ctx: Context) {
      ctx.set('Cache-Control', `public, max-age=${deps.config.jwksMaxAge}`);
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.body = await authorizationServerMetadata(deps);
    });
  }
  return router;
}

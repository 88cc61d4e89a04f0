import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { answerNotModified } from '../http/conditional-get.js';
import { jwksDocument } from './jwks.js';
import type { KeyRing } from './key-ring.js';

export type KeysRouteDeps = { config: Pick<Config, 'jwksMaxAge'>; keyRing: KeyRing };

export const JWKS_PATH = '/.well-known/jwks.json';

export function keysRoutes(deps: KeysRouteDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  router.get(JWKS_PATH, function serveJwks(ctx: Context) {
    const { body, etag } = jwksDocument(deps.keyRing);
    ctx.set('Cache-Control', `public, max-age=${deps.config.jwksMaxAge}`);
    ctx.set('Access-Control-Allow-Origin', '*');
    if (answerNotModified(ctx, etag)) return;
    ctx.type = 'application/jwk-set+json';
    ctx.body = body;
  });
  return router;
}

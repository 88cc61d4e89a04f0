import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { openapiDocument } from './document.js';

export function openapiRoutes(deps: { config: Pick<Config, 'baseUrl' | 'ops' | 'registration' | 'issuer'> }): Router {
  const router = new Router({ sensitive: true, strict: true });
  const body = JSON.stringify(openapiDocument(deps.config));
  router.get('/openapi.json', function serveOpenapi(ctx: Context) {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = body;
  });
  return router;
}

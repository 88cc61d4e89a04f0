import Router from '@koa/router';
import type { Context } from 'koa';

/** Liveness: the process answers. */
export function healthRoutes(): Router {
  const router = new Router();
  router.get('/healthz', function healthz(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  return router;
}

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Metrics } from './metrics.js';

export interface HealthDeps {
  /** Resolves when the database answers. */
  pingDatabase(): Promise<void>;
  /** Whether a signing key is loaded. */
  keysLoaded(): boolean;
  metrics: Metrics;
}

/** Operations: liveness, readiness, Prometheus metrics. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  router.get('/healthz', function healthz(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  // Ready when the database answers (within 2 s) and a signing key is loaded.
  router.get('/readyz', async function readyz(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    const checks = { database: false, keys: deps.keysLoaded() };
    try {
      await Promise.race([deps.pingDatabase(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
      checks.database = true;
    } catch {
      checks.database = false;
    }
    const ready = checks.database && checks.keys;
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });
  router.get('/metrics', async function metrics(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router;
}

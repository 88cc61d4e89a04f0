import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

/** One log line per request: method, path (never the query or body, which may carry secrets), status, time. */
export function accessLog(opts: { logger: Logger }) {
  return async function accessLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (opts.logger.isLevelEnabled('info')) {
        opts.logger.info({ requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
      }
    }
  };
}

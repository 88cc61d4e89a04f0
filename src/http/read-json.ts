import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { OAuthError } from '../errors.js';
import { bodyReadError } from './read-form.js';

/** Reads a JSON body for the admin API; other content types are refused with 415. */
export function readJson(opts: { limit: number }) {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${opts.limit}b`, strict: true });
  return async function readJsonMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.request.length || ctx.get('Transfer-Encoding')) {
      if (!ctx.is('application/json')) {
        throw new OAuthError('invalid_request', 'the body must be application/json', { status: 415 });
      }
      try {
        await parse(ctx, async () => undefined);
      } catch (err) {
        throw bodyReadError(err);
      }
    }
    await next();
  };
}

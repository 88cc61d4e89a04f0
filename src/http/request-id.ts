import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A well-formed incoming X-Request-Id is kept; otherwise a fresh one. */
export function chooseRequestId(incoming: string | undefined): string {
  return incoming !== undefined && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/** Gives each request an id (a well-formed incoming X-Request-Id is kept) and echoes it. */
export function requestId() {
  return async function requestIdMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.requestId = chooseRequestId(ctx.get('X-Request-Id'));
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}

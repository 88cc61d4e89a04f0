import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { OAuthError } from '../errors.js';
import { mapDriverError } from '../store/driver-errors.js';

/** An error as the client sees it: status, headers and the RFC 6749 §5.2 body. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/**
 * The one place an error becomes an HTTP answer, RFC 6749 §5.2 JSON `{error, error_description}`.
 * The precise reason (`detail`) and unexpected errors go to the log with the request id; the
 * client sees a bare `server_error` for anything unexpected. Used by the renderErrors middleware
 * and by the lean token path (src/http/lean-post.ts).
 */
export function answerError(err: unknown, logger: Logger, context: { requestId?: string; path: string }): ErrorAnswer {
  const oauth = toOAuthError(err);
  // Under `error`, not `code`: the logger redacts `code` (authorization codes).
  const log = { requestId: context.requestId, error: oauth.code, detail: oauth.detail, path: context.path };
  if (oauth.status >= 500) logger.error({ ...log, err }, 'request failed');
  else logger.debug(log, 'request refused');
  return {
    status: oauth.status,
    headers: { ...oauth.headers, 'Cache-Control': 'no-store' },
    body: { error: oauth.code, error_description: oauth.description },
  };
}

/** The first middleware: renders whatever the rest threw with answerError(). */
export function renderErrors(opts: { logger: Logger }) {
  return async function renderErrorsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new OAuthError('not_found', 'no such endpoint');
      }
    } catch (err) {
      const answer = answerError(err, opts.logger, { requestId: ctx.state.requestId, path: ctx.path });
      ctx.status = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
      ctx.type = 'application/json';
      ctx.body = answer.body;
    }
  };
}

/** Maps koa/body-parser HTTP errors (413, 415, bad JSON…) onto invalid_request; anything else is a server error. */
function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  const driver = mapDriverError(err);
  if (driver) return driver;
  const e = err as { status?: unknown; expose?: unknown; type?: unknown };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    const description =
      e.status === 413 ? 'request body too large' :
      e.status === 415 ? 'unsupported content type' :
      e.status === 405 ? 'method not allowed' : 'malformed request body';
    const code = e.status === 405 ? 'method_not_allowed' : e.status === 404 ? 'not_found' : 'invalid_request';
    // The body parser's kind of failure, never its message: JSON.parse quotes the body around the
    // fault, and a body may carry a password or a secret.
    const detail = typeof e.type === 'string' ? e.type : `${(err as Error).name ?? 'error'} ${e.status}`;
    return new OAuthError(code, description, { status: e.status, detail });
  }
  return new OAuthError('server_error', 'the server could not handle the request', { detail: (err as Error)?.message });
}

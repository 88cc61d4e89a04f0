import type { Context, Next } from 'koa';
import pino, { type Logger } from 'pino';

/** What one access-log line says: never the query or the body, which may carry secrets. */
export interface RequestLine {
  requestId: string;
  method: string;
  /** The path (koa) or the route pattern (a lean route, which matches one exact path). */
  path: string;
  status: number;
  /** Milliseconds from the request taken to the answer sent. */
  ms: number;
}

/** The parts of a pino logger that its own write path reads: its clock, its bindings, its destination. */
function pinoInternals(logger: Logger): { time(): string; chindings: string; stream: { write(s: string): void } } {
  const l = logger as unknown as Record<symbol, unknown>;
  return {
    time: l[pino.symbols.timeSym] as () => string,
    chindings: l[pino.symbols.chindingsSym] as string,
    stream: l[pino.symbols.streamSym] as { write(s: string): void },
  };
}

/**
 * pino's line for a request, built at once: the same bytes as `logger.info({ requestId, method,
 * path, status, ms }, 'request')` (test/unit/access-log-line.test.ts compares them), without pino's
 * generic path per field, nor its wildcard redaction, which cost more than the rest of the line
 * (issue #14 item 1). A request line has a fixed shape that carries no secret. Every other line goes
 * through pino whole.
 */
export function requestLogLine(logger: Logger, line: RequestLine): string {
  const { time, chindings } = pinoInternals(logger);
  const requestId = line.requestId === undefined ? '' : `,"requestId":${JSON.stringify(line.requestId)}`;
  const ms = Math.round(line.ms * 10) / 10;
  return `{"level":${logger.levels.values.info}${time()}${chindings}${requestId},"method":${JSON.stringify(line.method)},"path":${JSON.stringify(line.path)},"status":${line.status},"ms":${ms},"msg":"request"}\n`;
}

/** Writes one access-log line at info: for koa's chain and for every lean answer alike. */
export function logRequest(logger: Logger, line: RequestLine): void {
  if (!logger.isLevelEnabled('info')) return;
  pinoInternals(logger).stream.write(requestLogLine(logger, line));
}

/** One log line per request: method, path (never the query or body, which may carry secrets), status, time. */
export function accessLog(opts: { logger: Logger }) {
  return async function accessLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const start = performance.now();
    try {
      await next();
    } finally {
      logRequest(opts.logger, { requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: performance.now() - start });
    }
  };
}

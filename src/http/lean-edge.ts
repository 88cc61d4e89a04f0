import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { logRequest } from './access-log.js';
import { chooseRequestId } from './request-id.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** What every lean answer reports to: the access log and the request metrics, as koa's chain does. */
export interface LeanEdge {
  logger: Logger;
  metrics: Pick<Metrics, 'recordRequest'>;
}

/** Answers the request and returns true, or returns false without touching it. */
export type LeanRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The request id a lean answer carries: the one koa's requestId() middleware would choose. */
export function leanRequestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return chooseRequestId(typeof incoming === 'string' ? incoming : undefined);
}

export interface LeanAnswer {
  requestId: string;
  /** performance.now() when the request was taken. */
  start: number;
  method: string;
  /** The route pattern: the metrics label and the access log's path (lean routes match one exact path). */
  route: string;
  status: number;
  /** The answer's own headers; the request id and SECURITY_HEADERS come first, as koa sets them first. */
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** The OAuth error code of a refusal, for `grantor_oauth_errors_total`. */
  error?: string;
}

/**
 * Sends a lean answer with the edge work koa's chain does for every request (src/app.ts): the
 * request id and security headers, then the request metrics and the access log line, in one
 * place for every lean route.
 */
export function sendLean(res: ServerResponse, edge: LeanEdge, answer: LeanAnswer): void {
  res.writeHead(answer.status, { 'X-Request-Id': answer.requestId, ...SECURITY_HEADERS, ...answer.headers });
  res.end(answer.body);
  // From here on the answer is sent: a fault below must not answer again (see leanPostRoute).
  const ms = performance.now() - answer.start;
  edge.metrics.recordRequest(answer.method, answer.route, answer.status, ms / 1000, answer.error);
  logRequest(edge.logger, { requestId: answer.requestId, method: answer.method, path: answer.route, status: answer.status, ms });
}

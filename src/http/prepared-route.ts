import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'koa';
import { leanRequestId, sendLean, type LeanEdge, type LeanRoute } from './lean-edge.js';
import { answerPrepared, simpleGzipChoice, type PreparedDocument } from './prepared-document.js';
import { answerError } from './render-errors.js';
import { framingError } from './request-framing.js';

/**
 * A GET endpoint that serves a prepared document (src/http/prepared-document.ts), described once:
 * the koa route (servePrepared()) and the lean route ahead of koa (leanGet()) are both built from
 * this description and answer with the same function, answerPrepared().
 */
export interface PreparedRoute {
  /** Exact request path, also the route label of the metrics. */
  path: string;
  /** Whether a gzip variant is offered (the answer then varies by Accept-Encoding). */
  gzip: boolean;
  /** The document now: cheap when nothing changed (the owner compares the document's `source`). */
  current(): PreparedDocument | Promise<PreparedDocument>;
}

/** The koa side: the route's last middleware. */
export function servePrepared(route: PreparedRoute) {
  return async function servePreparedDocument(ctx: Context): Promise<void> {
    const doc = await route.current();
    const encoding = route.gzip && ctx.acceptsEncodings('gzip', 'identity') === 'gzip' ? 'gzip' : 'identity';
    const answer = answerPrepared(doc, { method: ctx.method, ifNoneMatch: ctx.get('If-None-Match') || undefined, encoding });
    ctx.set(answer.headers);
    ctx.status = answer.status;
    if (answer.body) ctx.body = answer.body;
  };
}

/**
 * The lean side: GET or HEAD of exactly `path` (no query), without a body, well framed
 * (framingError()), whose Accept-Encoding simpleGzipChoice() decides. Everything else returns
 * false untouched and goes to koa, which answers it with the same document and function.
 */
export function leanGet(route: PreparedRoute, edge: LeanEdge): LeanRoute {
  /**
   * Answers with the document, synchronously when route.current() has it at hand (no promise, no
   * microtask: issue #14 item 4); a promise when it had to fetch it. A refusal (route.current()
   * failed) is answered here; a fault while answering is thrown or rejected, for fault().
   */
  function answer(req: IncomingMessage, res: ServerResponse, encoding: 'gzip' | 'identity'): void | Promise<void> {
    const start = performance.now();
    const requestId = leanRequestId(req);
    const method = req.method!;
    const ifNoneMatch = req.headers['if-none-match'];
    const send = (doc: PreparedDocument) => sendLean(res, edge, { requestId, start, method, route: route.path, ...answerPrepared(doc, { method, ifNoneMatch, encoding }) });
    const refuse = (err: unknown) => {
      const refused = answerError(err, edge.logger, { requestId, path: route.path });
      const payload = JSON.stringify(refused.body);
      const headers = { ...refused.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(payload)) };
      sendLean(res, edge, { requestId, start, method, route: route.path, status: refused.status, headers, body: method === 'HEAD' ? undefined : payload, error: refused.body.error });
    };
    let doc: PreparedDocument | Promise<PreparedDocument>;
    try {
      doc = route.current();
    } catch (err) {
      return refuse(err);
    }
    return doc instanceof Promise ? doc.then(send, refuse) : send(doc);
  }

  /** sendLean() or the logger failed: never an unhandled rejection, never a hanging connection. */
  function fault(res: ServerResponse, err: unknown): void {
    if (!res.writableEnded) res.destroy();
    try {
      edge.logger.error({ err, path: route.path }, 'fault in a lean GET');
    } catch {
      // The logger itself failed: nobody left to tell.
    }
  }

  return function leanGetRoute(req, res) {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.url !== route.path) return false;
    const h = req.headers;
    if (h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')) return false;
    const encoding = route.gzip ? simpleGzipChoice(h['accept-encoding']) : 'identity';
    if (encoding === undefined || framingError(req) !== undefined) return false;
    try {
      answer(req, res, encoding)?.catch((err: unknown) => fault(res, err));
    } catch (err) {
      fault(res, err);
    }
    return true;
  };
}

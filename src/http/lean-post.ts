import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TrustProxy } from '../config.js';
import { clientAddress, proxyTrust } from './client-address.js';
import { leanRequestId, sendLean, type LeanEdge, type LeanRoute } from './lean-edge.js';
import { decodeFormBody, formTypeError, parseForm } from './read-form.js';
import { answerError } from './render-errors.js';
import { formRouteHeaders, type FormRoute } from './form-route.js';
import { framingError } from './request-framing.js';

export type { LeanRoute } from './lean-edge.js';

/**
 * A form POST endpoint answered straight from node:http, ahead of koa: the token endpoint's
 * hot path. Why not koa: its context, the global middleware chain and @koa/router's per-request
 * composition took more event-loop time than the token request itself, and the event loop is what
 * feeds the RSA signatures to the thread pool (bench: ~1.5× the issuance rate of the same
 * endpoint through koa on 2 cores).
 *
 * It takes only the requests it answers exactly as the koa route would: POST to exactly `path`,
 * well framed (framingError()), a form body (formTypeError()) whose Content-Length is within
 * `limit`, no Content-Encoding or Transfer-Encoding, no Origin (CORS is koa's). Everything else —
 * every refused framing or type, every oversized, encoded, chunked or cross-origin request —
 * returns `false` untouched and goes to koa, which serves (or refuses) it with the same functions.
 * For what it takes it does what koa's chain does, with the same functions: the client address
 * (clientAddress()), request id, security and no-store headers, the per-address limit before the
 * body is read, decodeFormBody(), parseForm(), answerError(), the request metrics and the access
 * log line.
 */
export interface LeanPostOptions<Body extends object> extends FormRoute<Body>, LeanEdge {
  /** Which peers are our proxies: the client address is found as on the koa side (clientAddress()). */
  trustProxy: TrustProxy;
}

const DIGITS = /^\d{1,9}$/;

export function leanPost<Body extends object>(opts: LeanPostOptions<Body>): LeanRoute {
  const repeatable = new Set(opts.repeatable ?? []);
  const trust = proxyTrust(opts.trustProxy);
  const routeHeaders = formRouteHeaders(opts);

  async function answer(req: IncomingMessage, res: ServerResponse, length: number): Promise<void> {
    const start = performance.now();
    const requestId = leanRequestId(req);
    let status = 200;
    let headers: Record<string, string> = {};
    let body: object;
    let error: string | undefined;
    try {
      const forwardedFor = req.headers['x-forwarded-for'];
      await opts.admit(clientAddress(req.socket.remoteAddress, typeof forwardedFor === 'string' ? forwardedFor : undefined, trust));
      const form = parseForm(decodeFormBody(await readBody(req, length)), repeatable);
      const header = (name: string) => {
        const value = req.headers[name];
        return (Array.isArray(value) ? value.join(', ') : value) || undefined;
      };
      body = await opts.handle({ form, authorization: req.headers.authorization || undefined, header });
      headers = opts.answerHeaders?.(header) ?? {};
    } catch (err) {
      const refused = answerError(err, opts.logger, { requestId, path: opts.path });
      ({ status, headers, body } = refused);
      error = refused.body.error;
    }
    const payload = JSON.stringify(body);
    const answerHeaders = {
      ...routeHeaders,
      // RFC 6749 §5.1 (and §5.2 answers alike): never cached
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(payload)),
    };
    sendLean(res, opts, { requestId, start, method: 'POST', route: opts.path, status, headers: answerHeaders, body: payload, error });
  }

  return function leanPostRoute(req, res) {
    if (req.method !== 'POST' || req.url !== opts.path) return false;
    const h = req.headers;
    if (h.origin !== undefined || h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
    const declared = h['content-length'] ?? '';
    if (!DIGITS.test(declared) || Number(declared) > opts.limit) return false;
    if (formTypeError(h['content-type']) !== undefined || framingError(req) !== undefined) return false;
    answer(req, res, Number(declared))
      .catch((err: unknown) => {
        // Only a fault of this file can land here (answer() renders every error of the endpoint);
        // it must not become an unhandled rejection that ends the process. Once the answer is sent
        // (metrics or the logger failed after it), the fault is only logged: a second res.end()
        // would emit an error nobody listens to, which ends the process too.
        if (res.writableEnded) return void opts.logger.error({ err, path: opts.path }, 'fault after the answer was sent');
        const failed = answerError(err, opts.logger, { path: opts.path });
        if (!res.headersSent) res.writeHead(failed.status, { ...failed.headers, 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(failed.body));
      })
      .catch(() => {
        // The logger itself failed: nobody left to tell; never leave the connection hanging.
        if (!res.writableEnded) res.destroy();
      });
    return true;
  };
}

/** The body, `length` bytes as declared (node's parser stops there). */
function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
    });
    // A body cut short is the client's fault: 400, as koa's body reader answers it.
    const cutShort = () => Object.assign(new Error('request body cut short'), { status: 400 });
    req.once('end', () => (size === length ? resolve(Buffer.concat(chunks, size)) : reject(cutShort())));
    req.once('error', () => reject(cutShort()));
  });
}

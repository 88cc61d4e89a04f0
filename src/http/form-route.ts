import type { Context, Middleware, Next } from 'koa';
import { noStore } from './no-store.js';
import { readForm } from './read-form.js';

/**
 * A form POST endpoint (token, introspection), described once: its path, body limit, repeatable
 * parameters, CORS, the per-address limit and the endpoint itself. koa's route (koaFormPost()) and
 * the lean path (leanPost(), src/http/lean-post.ts) are both built from it, so neither keeps a
 * copy of the other's pieces.
 */
export interface FormRoute<Body extends object> {
  /** Exact request path, also the route label of the metrics. */
  path: string;
  /** Largest body in bytes (larger ones: 413 on koa; the lean path leaves them to koa). */
  limit: number;
  /** Parameters that may repeat (RFC 8707 `resource`). */
  repeatable?: string[];
  /**
   * CORS for browser apps (src/http/cors.ts). Only koa runs it: the lean path leaves every request
   * with an Origin to koa, and answers the rest with the `Vary: Origin` the CORS middleware adds.
   */
  cors?: Middleware;
  /** Runs before the body is read (the per-address rate limit); throws to refuse. */
  admit(ip: string): Promise<void>;
  /**
   * The endpoint: the parsed form, the Authorization header and any other request header (by
   * lower-case name, repeated ones joined by ", " as koa's ctx.get() has them) in, the JSON answer out.
   */
  handle(request: FormRequest): Promise<Body>;
  /** Headers of a successful answer that depend on the request (RFC 9449 `DPoP-Nonce`). */
  answerHeaders?(header: RequestHeader): Record<string, string>;
}

/** A request header by lower-case name, or undefined when absent or empty. */
export type RequestHeader = (name: string) => string | undefined;

export interface FormRequest {
  form: URLSearchParams;
  authorization: string | undefined;
  header: RequestHeader;
}

/** Headers every answer of the route carries on both paths (RFC 6749 §5.1 no-store is added by each). */
export function formRouteHeaders(route: Pick<FormRoute<object>, 'cors'>): Readonly<Record<string, string>> {
  return route.cors ? { Vary: 'Origin' } : {};
}

/** The koa side: the route's middleware, in order (CORS, no-store, the per-address limit, the form, the endpoint). */
export function koaFormPost<Body extends object>(route: FormRoute<Body>): Middleware[] {
  const admit = async function limitAddress(ctx: Context, next: Next): Promise<void> {
    await route.admit(ctx.ip);
    await next();
  };
  const endpoint = async function formEndpoint(ctx: Context): Promise<void> {
    const header: RequestHeader = (name) => ctx.get(name) || undefined;
    ctx.body = await route.handle({ form: ctx.state.form, authorization: header('authorization'), header });
    if (route.answerHeaders) ctx.set(route.answerHeaders(header));
  };
  return [...(route.cors ? [route.cors] : []), noStore(), admit, readForm({ limit: route.limit, repeatable: route.repeatable }), endpoint];
}

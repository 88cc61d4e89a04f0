import type { Context, Next } from 'koa';

export interface CorsOptions {
  /**
   * Whether a browser app at this origin may read the answer: the one decision, asked as the
   * request arrives (a preflight is decided then) and, when that refused, once more after the
   * endpoint ran, with what the route read in `ctx.state` (the client a form names: an app known
   * only by its Client ID Metadata Document, whose origins no list holds). That second asking
   * admits the answer, error answers too, never a preflight: a preflight names no client.
   */
  allowOrigin(origin: string, ctx: Context): Promise<boolean>;
  methods: string[];
  headers: string[];
  /** Seconds a browser may cache the preflight answer. */
  maxAge?: number;
}

/**
 * CORS for endpoints browser apps call (token, revocation, introspection): an allowed Origin is
 * echoed with `Vary: Origin`, and credentials (cookies) are never allowed, so no wildcard is
 * needed and none rides with credentials. A preflight (OPTIONS) is answered here with 204.
 */
export function cors(opts: CorsOptions) {
  const methods = opts.methods.join(', ');
  const headers = opts.headers.join(', ');
  return async function corsMiddleware(ctx: Context, next: Next): Promise<void> {
    const origin = ctx.get('Origin');
    ctx.vary('Origin');
    const wellFormed = origin !== '' && origin.length <= 2048;
    const allowed = wellFormed && (await opts.allowOrigin(origin, ctx));
    const admit = () => {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After, DPoP-Nonce');
    };
    if (allowed) admit();
    if (ctx.method === 'OPTIONS') {
      if (allowed && ctx.get('Access-Control-Request-Method')) {
        ctx.set('Access-Control-Allow-Methods', methods);
        ctx.set('Access-Control-Allow-Headers', headers);
        ctx.set('Access-Control-Max-Age', String(opts.maxAge ?? 600));
      }
      ctx.status = 204;
      return;
    }
    if (allowed || !wellFormed) return next();
    try {
      await next();
    } finally {
      // An error answer too: the app must be able to read `invalid_grant`.
      if (await opts.allowOrigin(origin, ctx).catch(() => false)) admit();
    }
  };
}

/**
 * The preflight of a public document (authorization server metadata, JWKS, status list): any
 * origin may read it, with any request headers (a browser MCP client sends MCP-Protocol-Version
 * with its discovery requests), and never with credentials — there are none to protect, so the
 * Fetch `*` wildcards are right here (RFC 8414 §3 and RFC 7517 documents are public).
 */
export function publicDocumentPreflight(opts: { maxAge?: number } = {}) {
  return async function publicDocumentPreflightMiddleware(ctx: Context): Promise<void> {
    ctx.set('Access-Control-Allow-Origin', '*');
    if (ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, HEAD');
      ctx.set('Access-Control-Allow-Headers', '*');
      ctx.set('Access-Control-Max-Age', String(opts.maxAge ?? 600));
    }
    ctx.status = 204;
  };
}

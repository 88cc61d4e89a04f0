import type { Verifier } from './verify.js';

/** RFC 9728 §3: the well-known URI suffix of protected resource metadata. */
export const PROTECTED_RESOURCE_METADATA_SUFFIX = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceMetadataOptions {
  /**
   * This API's resource identifier (RFC 9728 §1.2, RFC 8707): an https URL without fragment, the
   * `aud` of its tokens — the verifier's `audience`. A path is allowed (`https://mcp.example.com/mcp`).
   */
  resource: string;
  /** Issuer identifiers of the authorization servers whose tokens this API takes (§2). */
  authorizationServers: string[];
  /** Scopes this API understands (§2 `scopes_supported`; RECOMMENDED). */
  scopesSupported?: string[];
  /** How tokens may be sent (§2). Default `["header"]`: the module reads only the Authorization header (RFC 6750 §2.1). */
  bearerMethodsSupported?: Array<'header' | 'body' | 'query'>;
  /** A human-readable name (§2 `resource_name`). */
  resourceName?: string;
  /** Where people read about this API (§2 `resource_documentation`). */
  resourceDocumentation?: string;
  /**
   * The verifier guarding the API: its DPoP settings go into the document (§2
   * `dpop_signing_alg_values_supported`, `dpop_bound_access_tokens_required`), so a client learns
   * that it must use DPoP before its first refusal.
   */
  verifier?: Pick<Verifier, 'dpopAlgorithms' | 'dpopRequired'>;
  /** `Cache-Control: max-age` of the answer, in seconds. Default 3600. */
  maxAge?: number;
}

/** A prepared answer: status, headers and body bytes, for any HTTP framework. */
export interface MetadataAnswer {
  status: 200 | 405;
  headers: Record<string, string>;
  body: string;
}

export interface ProtectedResourceMetadata {
  /** The document (RFC 9728 §2). */
  readonly document: Readonly<Record<string, unknown>>;
  /** Where clients fetch it (§3.1): the `resource_metadata` of WWW-Authenticate challenges (§5.1). */
  readonly url: string;
  /**
   * The paths it is served at: the path-suffixed form of §3.1 (`/.well-known/oauth-protected-resource/mcp`
   * for `https://mcp.example.com/mcp`) and, for a resource with a path, the bare well-known path
   * too, which clients probe when a challenge named no `resource_metadata`.
   */
  readonly paths: readonly string[];
  /**
   * The answer for a request, or undefined when the path is not one of {@link paths} (pass it on).
   * GET and HEAD get the document; any other method 405.
   */
  respond(request: { method: string; path: string }): MetadataAnswer | undefined;
}

/**
 * Builds the protected resource metadata of an API (RFC 9728) once: the document, the URL clients
 * find it at, and a plain `respond()` usable from any framework (see {@link serveProtectedResourceMetadata}
 * for koa). Throws a TypeError on a resource identifier RFC 9728 §1.2 does not allow.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience: 'https://mcp.example.com/mcp' });
 * const metadata = createProtectedResourceMetadata({ resource: 'https://mcp.example.com/mcp', authorizationServers: [issuer], scopesSupported: ['mcp'], verifier });
 * app.use(serveProtectedResourceMetadata(metadata));
 * router.post('/mcp', requireToken(verifier, { scopes: ['mcp'], resourceMetadata: metadata.url }), handle);
 * ```
 */
export function createProtectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  const resource = parseResource(options.resource);
  if (!Array.isArray(options.authorizationServers) || options.authorizationServers.length === 0) {
    throw new TypeError('authorizationServers: name at least one issuer');
  }
  const document: Record<string, unknown> = {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
    bearer_methods_supported: [...(options.bearerMethodsSupported ?? ['header'])],
    ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation !== undefined ? { resource_documentation: options.resourceDocumentation } : {}),
    // §2: the module accepts DPoP proofs by these algorithms, and may require them.
    ...(options.verifier
      ? { dpop_signing_alg_values_supported: [...options.verifier.dpopAlgorithms], dpop_bound_access_tokens_required: options.verifier.dpopRequired }
      : {}),
  };
  // §3.1: the well-known segment goes between the host and the path; a trailing slash is dropped.
  const resourcePath = resource.pathname === '/' ? '' : resource.pathname.replace(/\/+$/, '');
  const suffixed = `${PROTECTED_RESOURCE_METADATA_SUFFIX}${resourcePath}`;
  const paths = resourcePath ? [suffixed, PROTECTED_RESOURCE_METADATA_SUFFIX] : [suffixed];
  const url = `${resource.origin}${suffixed}`;

  const body = JSON.stringify(document);
  const ok: MetadataAnswer = {
    status: 200,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': `public, max-age=${options.maxAge ?? 3600}`,
      // Browser-based clients (MCP inspectors, SPAs) read it from another origin; it holds nothing private.
      'Access-Control-Allow-Origin': '*',
    },
    body,
  };
  const notAllowed: MetadataAnswer = { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'application/json' }, body: JSON.stringify({ error: 'method_not_allowed' }) };

  return {
    document: Object.freeze(document),
    url,
    paths: Object.freeze(paths),
    respond(request) {
      if (!paths.includes(request.path)) return undefined;
      return request.method === 'GET' || request.method === 'HEAD' ? ok : notAllowed;
    },
  };
}

/** The little of a koa context the metadata middleware uses. */
export interface KoaMetadataContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

/**
 * Koa middleware serving the document at {@link ProtectedResourceMetadata.paths}; every other
 * request passes on.
 *
 * @example
 * ```ts
 * app.use(serveProtectedResourceMetadata(metadata));
 * ```
 */
export function serveProtectedResourceMetadata(metadata: Pick<ProtectedResourceMetadata, 'respond'>) {
  return async function protectedResourceMetadata(ctx: KoaMetadataContext, next: () => Promise<unknown>): Promise<void> {
    const answer = metadata.respond({ method: ctx.method, path: ctx.path });
    if (!answer) return void (await next());
    ctx.status = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
    ctx.body = answer.body;
  };
}

function parseResource(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('resource: not an absolute URL');
  }
  // §1.2: an https URL without a fragment (http is let through for loopback development).
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new TypeError('resource: must be an https URL');
  if (value.includes('#')) throw new TypeError('resource: must have no fragment');
  return url;
}

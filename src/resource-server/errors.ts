/**
 * Why a token was refused:
 * - `invalid_token`: bad signature, issuer, audience, type, expired, or its grant is revoked (401);
 * - `insufficient_scope`: valid, but without a required scope (403);
 * - `status_unavailable`: valid, but its revocation status could not be confirmed (503, fail closed);
 * - `invalid_dpop_proof`: the DPoP proof is missing, malformed, for another request or key, or replayed (401, RFC 9449 §7.1).
 */
export type ResourceServerErrorCode = 'invalid_token' | 'insufficient_scope' | 'status_unavailable' | 'invalid_dpop_proof';

/**
 * The one error `verify()` and `requireToken()` throw.
 *
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (err) {
 *   if (err instanceof ResourceServerError && err.code === 'invalid_token') …
 * }
 * ```
 */
export class ResourceServerError extends Error {
  readonly code: ResourceServerErrorCode;
  /** The scheme whose challenge answers this refusal: `DPoP` for DPoP requests and DPoP-bound tokens (RFC 9449 §7.1). */
  readonly scheme: 'Bearer' | 'DPoP';

  constructor(code: ResourceServerErrorCode, message: string, options?: { cause?: unknown; scheme?: 'Bearer' | 'DPoP' }) {
    super(message, options);
    this.name = 'ResourceServerError';
    this.code = code;
    this.scheme = options?.scheme ?? (code === 'invalid_dpop_proof' ? 'DPoP' : 'Bearer');
  }

  /** The HTTP status RFC 6750 §3.1 gives this refusal. */
  get status(): 401 | 403 | 503 {
    return this.code === 'insufficient_scope' ? 403 : this.code === 'status_unavailable' ? 503 : 401;
  }
}

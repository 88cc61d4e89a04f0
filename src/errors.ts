/**
 * The one error type of Grantor. Domain code throws `OAuthError`; the render-errors middleware
 * (src/http/render-errors.ts) is the only place that turns it into an HTTP answer.
 * The client sees `code` and `description`; `detail` goes to the log only.
 */

/** Error codes of RFC 6749 §4.1.2.1/§5.2, RFC 6750 §3.1, RFC 8707 §2, RFC 7009 §2.2.1, RFC 9449 §5, §8 and RFC 7591 §3.2.2. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'server_error'
  | 'temporarily_unavailable';

/** Default HTTP status per code; a thrower may override it (e.g. 413 or 415 for invalid_request). */
export const STATUS_BY_CODE: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  rate_limited: 429,
  server_error: 500,
  temporarily_unavailable: 503,
};

export interface OAuthErrorOptions {
  /** Precise reason, logged, never sent to the client. */
  detail?: string;
  /** HTTP status, when it differs from the code's default. */
  status?: number;
  /** Extra response headers (e.g. WWW-Authenticate). */
  headers?: Record<string, string>;
}

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  readonly detail?: string;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
    this.detail = options.detail;
    this.status = options.status ?? STATUS_BY_CODE[code];
    this.headers = options.headers ?? {};
  }
}

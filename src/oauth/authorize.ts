import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow, ResourceRow } from '../store/tables.js';
import { CODE_CHALLENGE } from './pkce.js';
import { resolveAudience } from './resource-indicator.js';
import { parseScope } from './scope.js';
import { redirectUriRegistered } from './redirect-uri.js';

export type AuthorizeDeps = { db: Db; readCache: ReadCache; config: Pick<Config, 'issuer' | 'baseUrl'> };

/** A checked authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2). */
export interface AuthorizationRequest {
  client: ClientRow;
  redirectUri: string;
  /** Whether the request named redirect_uri (then the token request must repeat it, §4.1.3). */
  redirectUriSent: boolean;
  state: string | undefined;
  resource: ResourceRow;
  scopes: string[];
  codeChallenge: string | null;
  /** RFC 9449 §10: the thumbprint of the DPoP key the code will be redeemed with, if named. */
  dpopJkt: string | null;
  prompt: Set<string>;
  /** The parameters as received, to carry through the login and consent forms. */
  params: URLSearchParams;
}

export type AuthorizeOutcome =
  | { ok: true; request: AuthorizationRequest }
  /** §4.1.2.1: an unknown client or a bad redirect URI is shown to the person, never redirected. */
  | { ok: false; redirect: false; description: string }
  | { ok: false; redirect: true; location: string };

const PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'resource', 'code_challenge', 'code_challenge_method', 'prompt', 'dpop_jkt'];
const MAX_STATE = 2048;

/**
 * Checks an authorization request. First who to answer (client and redirect URI, exact match,
 * RFC 9700 §4.1.3), then everything else, whose errors go back to the app with `error`, `state`
 * and `iss` (RFC 9207).
 */
export async function checkAuthorizationRequest(deps: AuthorizeDeps, raw: URLSearchParams): Promise<AuthorizeOutcome> {
  const params = new URLSearchParams();
  const repeated = new Set<string>();
  for (const [name, value] of raw) {
    if (!PARAMS.includes(name) || value === '') continue; // §3.1: unknown parameters are ignored, empty ones omitted
    if (params.has(name) && name !== 'resource') repeated.add(name);
    params.append(name, value);
  }

  // 1. the client and where to answer it
  const clientId = params.get('client_id');
  if (!clientId || repeated.has('client_id')) return pageError('the request names no single client');
  const client = /^[\x20-\x7e]{1,512}$/.test(clientId) ? await deps.readCache.client(clientId) : undefined;
  if (!client || client.disabled) return pageError('this application is not known');
  if (repeated.has('redirect_uri')) return pageError('the request names several redirect URIs');
  const asked = params.get('redirect_uri');
  let redirectUri: string;
  if (asked !== null) {
    // RFC 9700 §4.1.3: exact string match against a registered URI; no prefix, no pattern (a
    // loopback IP literal's port aside, RFC 8252 §7.3).
    if (!redirectUriRegistered(client.redirectUris, asked)) return pageError('the redirect URI is not registered for this application');
    redirectUri = asked;
  } else if (client.redirectUris.length === 1) {
    redirectUri = client.redirectUris[0];
  } else {
    return pageError('the request must name its redirect URI');
  }

  // 2. everything else answers the app
  const state = params.get('state') ?? undefined;
  // §4.1.2.1: state goes back exactly as received — or, when it is too long to carry, not at all.
  const echoedState = state !== undefined && state.length <= MAX_STATE ? state : undefined;
  const fail = (error: string, description: string) => ({ ok: false as const, redirect: true as const, location: errorRedirect(deps, redirectUri, error, description, echoedState) });
  if (state !== undefined && state.length > MAX_STATE) return fail('invalid_request', 'state is too long');
  if (repeated.size) return fail('invalid_request', `repeated parameter: ${[...repeated][0]}`);
  const responseType = params.get('response_type');
  if (!responseType) return fail('invalid_request', 'response_type is required');
  // Only the code flow: no implicit grant (RFC 9700 §2.1.2).
  if (responseType !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  if (!client.grantTypes.includes('authorization_code')) return fail('unauthorized_client', 'the client may not use the authorization code flow');

  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge === null) {
    // RFC 9700 §2.1.1 and OAuth 2.1: public clients must use PKCE.
    if (client.type === 'public') return fail('invalid_request', 'code_challenge is required (PKCE, S256)');
    if (method !== null) return fail('invalid_request', 'code_challenge_method without code_challenge');
  } else {
    if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
    if (!CODE_CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge is malformed');
  }

  // RFC 9449 §10: dpop_jkt is a JWK SHA-256 thumbprint (RFC 7638), 43 base64url characters.
  const dpopJkt = params.get('dpop_jkt');
  if (dpopJkt !== null && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) return fail('invalid_request', 'dpop_jkt is malformed');

  let scopes: string[];
  let resource: ResourceRow;
  try {
    const requested = parseScope(params.get('scope'));
    ({ resource, scopes } = await resolveAudience(deps, client, params.getAll('resource'), requested));
  } catch (err) {
    if (err instanceof OAuthError) return fail(err.code, err.description);
    throw err;
  }
  const prompt = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
  if (prompt.has('none') && prompt.size > 1) return fail('invalid_request', 'prompt=none cannot be combined');

  return {
    ok: true,
    request: { client, redirectUri, redirectUriSent: asked !== null, state, resource, scopes, codeChallenge: challenge, dpopJkt, prompt, params },
  };
}

function pageError(description: string): AuthorizeOutcome {
  return { ok: false, redirect: false, description };
}

/** Adds `params` to a redirect URI, keeping its own query (RFC 6749 §3.1.2). */
export function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.toString();
}

/** §4.1.2.1 error response, with `iss` (RFC 9207). */
export function errorRedirect(deps: { config: Pick<Config, 'issuer'> }, redirectUri: string, error: string, description: string, state: string | undefined): string {
  return withParams(redirectUri, { error, error_description: description, state, iss: deps.config.issuer });
}

import { OAuthError } from '../errors.js';
import { verifyDpopProof } from './dpop-proof.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { TOKEN_EXCHANGE, tokenExchangeGrant } from './grants/token-exchange.js';
import type { GrantDeps, GrantHandler, TokenRequest, TokenResponse } from './grants/grant.js';

/** Where the token endpoint is served, below the issuer's base URL. */
export const TOKEN_PATH = '/oauth/token';

/** The grant types this server speaks, by their RFC 6749 (or RFC 8693 §2.1) name. */
export const GRANTS = new Map<string, GrantHandler>([
  ['authorization_code', authorizationCodeGrant],
  ['refresh_token', refreshTokenGrant],
  ['client_credentials', clientCredentialsGrant],
  [TOKEN_EXCHANGE, tokenExchangeGrant],
]);

/**
 * RFC 6749 §3.2: dispatches a token request to its grant. A DPoP header (RFC 9449 §5) is checked
 * first, for every grant type, against the token endpoint's URL as the issuer publishes it (never
 * the Host header); the grant then binds what it issues to the proof's key.
 */
export async function handleTokenRequest(deps: GrantDeps, request: TokenRequest): Promise<TokenResponse> {
  const grantType = request.form.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', 'this grant type is not supported');
  const dpop = request.dpop === undefined ? undefined : await verifyDpopProof(deps, { proof: request.dpop, method: 'POST', url: `${deps.config.baseUrl}${TOKEN_PATH}` });
  return grant(deps, { ...request, dpopJkt: dpop?.jkt });
}

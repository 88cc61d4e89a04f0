import { OAuthError } from '../errors.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import type { GrantDeps, GrantHandler, TokenRequest, TokenResponse } from './grants/grant.js';

/** The grant types this server speaks, by their RFC 6749 name. */
export const GRANTS = new Map<string, GrantHandler>([
  ['authorization_code', authorizationCodeGrant],
  ['refresh_token', refreshTokenGrant],
  ['client_credentials', clientCredentialsGrant],
]);

/** RFC 6749 §3.2: dispatches a token request to its grant. */
export async function handleTokenRequest(deps: GrantDeps, request: TokenRequest): Promise<TokenResponse> {
  const grantType = request.form.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new OAuthError('unsupported_grant_type', 'this grant type is not supported');
  return grant(deps, request);
}

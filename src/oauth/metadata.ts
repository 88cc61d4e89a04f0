import type { Config } from '../config.js';
import { JWKS_PATH } from '../keys/routes.js';
import { ADMIN_SCOPE, SSF_SCOPE } from '../registry/schemas.js';
import { REGISTRATION_PATH } from '../registry/registration.js';
import type { ReadCache } from '../store/read-cache.js';
import { CLIENT_ASSERTION_ALGORITHMS } from '../registry/schemas.js';
import { SUPPORTED_AUTH_METHODS } from './client-auth.js';
import { DPOP_ALGORITHMS } from './dpop-proof.js';
import { GRANTS, TOKEN_PATH } from './token-endpoint.js';

export { TOKEN_PATH };
export const AUTHORIZE_PATH = '/oauth/authorize';
export const REVOKE_PATH = '/oauth/revoke';
export const INTROSPECT_PATH = '/oauth/introspect';
export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/** RFC 8414 §2 authorization server metadata. `issuer` is exactly the configured ISSUER. */
export async function authorizationServerMetadata(deps: { readCache: Pick<ReadCache, 'resources'>; config: Pick<Config, 'issuer' | 'baseUrl' | 'clientMetadataDocuments' | 'registration'> }): Promise<Record<string, unknown>> {
  const { issuer, baseUrl } = deps.config;
  const scopes = new Set<string>([ADMIN_SCOPE, SSF_SCOPE]);
  // RFC 8414 §2: the algorithms private_key_jwt assertions may be signed with, at each endpoint.
  const assertionAlgs = [...CLIENT_ASSERTION_ALGORITHMS];
  for (const r of await deps.readCache.resources()) for (const s of r.scopes) scopes.add(s.name);
  return {
    issuer,
    authorization_endpoint: `${baseUrl}${AUTHORIZE_PATH}`,
    token_endpoint: `${baseUrl}${TOKEN_PATH}`,
    jwks_uri: `${baseUrl}${JWKS_PATH}`,
    grant_types_supported: [...GRANTS.keys()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: authorization responses carry iss.
    authorization_response_iss_parameter_supported: true,
    // Public clients (authorization code + PKCE) authenticate with their client_id alone.
    token_endpoint_auth_methods_supported: [...SUPPORTED_AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    revocation_endpoint: `${baseUrl}${REVOKE_PATH}`,
    revocation_endpoint_auth_methods_supported: [...SUPPORTED_AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    introspection_endpoint: `${baseUrl}${INTROSPECT_PATH}`,
    introspection_endpoint_auth_methods_supported: SUPPORTED_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    scopes_supported: [...scopes].sort(),
    // RFC 9449 §5.1: the token endpoint binds tokens to DPoP proofs made with these algorithms.
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    service_documentation: `${baseUrl}/openapi.json`,
    // draft-ietf-oauth-client-id-metadata-document §5: an https client_id names its own metadata.
    ...(deps.config.clientMetadataDocuments.enabled ? { client_id_metadata_document_supported: true } : {}),
    // RFC 8414 §2 / RFC 7591 §3: only when clients may register themselves (REGISTRATION not off).
    ...(deps.config.registration.policy !== 'off' ? { registration_endpoint: `${baseUrl}${REGISTRATION_PATH}` } : {}),
  };
}

/**
 * RFC 8414 §3.1: for an issuer with a path component, the well-known segment goes between the host
 * and the path. Returns every path the document is served at.
 */
export function metadataPaths(issuer: string): string[] {
  const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '');
  return issuerPath ? [METADATA_PATH, `${METADATA_PATH}${issuerPath}`] : [METADATA_PATH];
}

/** The OpenAPI paths of dynamic client registration (RFC 7591, RFC 7592) and of its initial access tokens. */
import type { Config } from '../config.js';
import { CreateRegistrationTokenSchema } from '../registry/registration-tokens.js';
import { ClientMetadataSchema } from '../registry/registration-schemas.js';
import { admin, adminErrors, json, jsonBody, jsonResponse, listParams, oauthError, pathParam, type Schema } from './document.js';

const tags = ['registration'];
const clientInformation: Schema = {
  type: 'object',
  description: 'RFC 7591 §3.2.1 client information response: the metadata as Grantor stored it, with client_id, client_id_issued_at, registration_access_token and registration_client_uri.',
  properties: {
    client_id: { type: 'string' }, client_id_issued_at: { type: 'integer' }, registration_access_token: { type: 'string' }, registration_client_uri: { type: 'string' },
    client_name: { type: 'string' }, redirect_uris: { type: 'array', items: { type: 'string' } }, grant_types: { type: 'array', items: { type: 'string' } },
    response_types: { type: 'array', items: { type: 'string' } }, token_endpoint_auth_method: { enum: ['none', 'private_key_jwt'] }, scope: { type: 'string' },
  },
  required: ['client_id', 'registration_access_token', 'registration_client_uri'],
};
export function registrationPaths(config: Pick<Config, 'registration'>): Record<string, Schema> {
  // Built on call: document.ts, whose helpers these are, imports this file.
  const preflight = { tags, summary: 'CORS preflight: any origin, no credentials', responses: { '204': { description: 'Access-Control-Allow-* headers' } } };
  const managementErrors = { '401': oauthError('invalid_token: wrong or missing registration access token, or no such client (never said which)') };
const registrationToken: Schema = {
  type: 'object',
  properties: { id: { type: 'string' }, description: { type: 'string' }, created_at: { type: 'integer' }, expires_at: { type: ['integer', 'null'] }, max_uses: { type: ['integer', 'null'] }, uses: { type: 'integer' }, revoked_at: { type: ['integer', 'null'] } },
};
  const tokens = {
    '/admin/registration-tokens': {
      post: { ...admin, summary: 'Mint an initial access token for REGISTRATION=token (RFC 7591 §3); the token is in this answer only', requestBody: jsonBody(json(CreateRegistrationTokenSchema)), responses: { '201': jsonResponse('minted', { allOf: [registrationToken, { type: 'object', properties: { token: { type: 'string' } } }] }), ...adminErrors } },
      get: { ...admin, summary: 'List initial access tokens (never the tokens themselves)', parameters: listParams, responses: { '200': jsonResponse('a page', { type: 'object', properties: { items: { type: 'array', items: registrationToken }, next_cursor: { type: ['string', 'null'] } } }), ...adminErrors } },
    },
    '/admin/registration-tokens/{id}': {
      delete: { ...admin, summary: 'Revoke an initial access token (the clients it registered stay)', parameters: [pathParam('id')], responses: { '204': { description: 'revoked' }, ...adminErrors } },
    },
  };
  if (config.registration.policy === 'off') return tokens;
  const bearer = config.registration.policy === 'token' ? { security: [{ initialAccessToken: [] }] } : {};
  return {
    ...tokens,
    '/oauth/register': {
      options: preflight,
      post: {
        tags,
        ...bearer,
        summary: `Dynamic client registration (RFC 7591 §3)${config.registration.policy === 'token' ? ', with an initial access token (Authorization: Bearer)' : ', open to anyone'}`,
        description: 'Public clients (token_endpoint_auth_method none) or private_key_jwt ones; authorization_code (+ refresh_token) only; scope narrowed to the scopes resources opened to unvetted clients. Rate-limited per address, capped in number; a client that holds no grant for REGISTRATION_IDLE_TTL is deleted.',
        requestBody: jsonBody(json(ClientMetadataSchema)),
        responses: {
          '201': jsonResponse('registered', clientInformation),
          '400': oauthError('invalid_redirect_uri or invalid_client_metadata (RFC 7591 §3.2.2)'),
          '401': oauthError('invalid_token: missing or unusable initial access token (REGISTRATION=token)'),
          '403': oauthError('access_denied: the cap on self-registered clients is reached'),
          '429': oauthError('rate_limited: too many registrations from this address (Retry-After)'),
        },
      },
    },
    '/oauth/register/{client_id}': {
      options: preflight,
      get: { tags, summary: 'Read a registration (RFC 7592 §2.1) with its registration access token', parameters: [pathParam('client_id')], responses: { '200': jsonResponse('the registration', clientInformation), ...managementErrors } },
      put: { tags, summary: 'Replace a registration’s metadata (RFC 7592 §2.2); must include client_id; the token is not rotated', parameters: [pathParam('client_id')], requestBody: jsonBody(json(ClientMetadataSchema)), responses: { '200': jsonResponse('the registration', clientInformation), '400': oauthError('invalid_redirect_uri or invalid_client_metadata'), ...managementErrors } },
      delete: { tags, summary: 'Delete a registration (RFC 7592 §2.3); its grants are revoked', parameters: [pathParam('client_id')], responses: { '204': { description: 'deleted' }, ...managementErrors } },
    },
  };
}

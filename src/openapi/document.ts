/**
 * The OpenAPI 3.1 document of Grantor's whole HTTP surface. Admin bodies come from the same zod
 * schemas that validate them; test/e2e/openapi.test.ts fails when a route exists here and not in
 * the app, or the other way round.
 */
import { z } from 'zod';
import type { Config } from '../config.js';
import { BlockClientSchema, ClientListQuerySchema, CreateClientSchema, CreateResourceSchema, CreateUserSchema, UpdateClientSchema, UpdateResourceSchema, UpdateUserSchema } from '../registry/schemas.js';
import { registrationPaths } from './registration.js';
import { GrantListQuerySchema, RevocationFeedQuerySchema, RevokeGrantBodySchema, RevokeManySchema } from '../revocation/schemas.js';
import { ssfConfigurationPath } from '../ssf/configuration.js';
import { CreateStreamSchema, PollSchema, ReplaceStreamSchema, StreamIdQuerySchema, StreamQuerySchema, UpdateStatusSchema, UpdateStreamSchema, VerificationSchema } from '../ssf/schemas.js';

export type Schema = Record<string, unknown>;
export const json = (schema: z.ZodType): Schema => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Schema;
  return rest;
};
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const jsonBody = (schema: Schema) => ({ required: true, content: { 'application/json': { schema } } });
export const jsonResponse = (description: string, schema: Schema) => ({ description, content: { 'application/json': { schema } } });
export const oauthError = (description: string) => jsonResponse(description, ref('OAuthError'));
export const adminErrors = {
  '400': oauthError('invalid_request, naming the field'),
  '401': oauthError('missing or invalid bearer token (WWW-Authenticate: Bearer)'),
  '403': oauthError('insufficient_scope: the token lacks `admin`'),
  '404': oauthError('not_found'),
};
export const pageOf = (item: string) => ({
  type: 'object',
  properties: { items: { type: 'array', items: ref(item) }, next_cursor: { type: ['string', 'null'] } },
  required: ['items', 'next_cursor'],
});
export const listParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'next_cursor of the previous page' },
];
const formBody = (properties: Schema, required: string[]) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties, required } } },
});
/** Query parameters from a zod object schema. */
const queryParams = (schema: z.ZodType) => {
  const js = json(schema) as { properties: Record<string, Schema> };
  return Object.entries(js.properties).map(([name, s]) => ({ name, in: 'query', schema: s, description: s.description }));
};
const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const corsPreflight = {
  tags: ['oauth'],
  summary: 'CORS preflight: browser apps at the origin of a registered redirect URI may POST here (no credentials)',
  responses: { '204': { description: 'Access-Control-Allow-* for an allowed origin, nothing otherwise' } },
};
export const publicPreflight = {
  tags: ['discovery'],
  summary: 'CORS preflight: any origin may read this public document (GET, HEAD; any request header; no credentials)',
  responses: { '204': { description: 'Access-Control-Allow-Origin: *, Access-Control-Allow-Methods: GET, HEAD, Access-Control-Allow-Headers: *' } },
};
export const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
export const admin = { security: [{ bearer: ['admin'] }], tags: ['admin'] };

const ssf = { security: [{ bearer: ['ssf'] }], tags: ['shared signals'] };
const ssfErrors = { ...adminErrors, '403': oauthError('insufficient_scope: the token lacks `ssf`'), '404': oauthError('not_found: no such stream of the caller') };

export function openapiDocument(config: Pick<Config, 'baseUrl' | 'ops' | 'registration' | 'issuer'>): Schema {
  return {
    openapi: '3.1.0',
    info: { title: 'Grantor', version: '0.1.0', description: 'OAuth 2 token service: RS256 JWT access tokens (RFC 9068), JWKS, revocation keyed by grant.' },
    servers: [{ url: config.baseUrl }],
    paths: {
      '/oauth/token': {
        options: corsPreflight,
        post: {
          tags: ['oauth'],
          summary: 'Token endpoint (RFC 6749 §3.2)',
          description: 'client_credentials (confidential clients), authorization_code with PKCE, refresh_token (rotated on every use), token exchange (RFC 8693: a confidential client listed in the target resource’s token_exchange_clients trades an access token it was given for one of that resource, acting for its subject). Client authentication: client_secret_basic, client_secret_post, private_key_jwt (RFC 7523 §2.2: a JWT signed with a registered key, `aud` the issuer identifier, used once), or client_id alone for public clients.',
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: {
                  type: 'object',
                  properties: {
                    grant_type: { type: 'string', enum: ['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
                    code: { type: 'string' },
                    redirect_uri: { type: 'string' },
                    code_verifier: { type: 'string' },
                    refresh_token: { type: 'string' },
                    scope: { type: 'string' },
                    resource: { type: 'string', format: 'uri' },
                    audience: { type: 'string', description: 'RFC 8693 §2.1: the identifier of the resource, as `resource`.' },
                    subject_token: { type: 'string', description: 'RFC 8693 §2.1: an access token of Grantor’s.' },
                    subject_token_type: { type: 'string', enum: ['urn:ietf:params:oauth:token-type:access_token'] },
                    requested_token_type: { type: 'string', enum: ['urn:ietf:params:oauth:token-type:access_token'] },
                    client_id: { type: 'string' },
                    client_secret: { type: 'string' }, client_assertion_type: { type: 'string' }, client_assertion: { type: 'string' },
                  },
                  required: ['grant_type'],
                },
              },
            },
          },
          responses: {
            '200': jsonResponse('RFC 6749 §5.1 token response', ref('TokenResponse')),
            '400': oauthError('RFC 6749 §5.2 error'),
            '401': oauthError('invalid_client'),
          },
        },
      },
      '/oauth/authorize': {
        get: {
          tags: ['pages'],
          summary: 'Authorization endpoint (RFC 6749 §4.1.1, RFC 7636, RFC 9207): login and consent pages, then a redirect with code, state and iss',
          parameters: ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'resource', 'code_challenge', 'code_challenge_method', 'prompt'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: { '200': htmlPage('login or consent page'), '302': { description: 'back to the app' }, '400': htmlPage('unknown client or bad redirect URI: shown, never redirected') },
        },
        post: { tags: ['pages'], summary: 'The consent form: decision=allow|deny (CSRF-protected)', requestBody: formBody({ decision: { enum: ['allow', 'deny'] }, csrf: { type: 'string' } }, ['decision', 'csrf']), responses: { '303': { description: 'back to the app' }, '403': htmlPage('bad CSRF token') } },
      },
      '/login': {
        get: { tags: ['pages'], summary: 'Login page', parameters: [{ name: 'return_to', in: 'query', schema: { type: 'string' } }], responses: { '200': htmlPage('login form') } },
        post: { tags: ['pages'], summary: 'Sign in (CSRF-protected, rate-limited per account and address)', requestBody: formBody({ username: { type: 'string' }, password: { type: 'string' }, csrf: { type: 'string' }, return_to: { type: 'string' } }, ['username', 'password', 'csrf']), responses: { '303': { description: 'signed in' }, '401': htmlPage('wrong credentials'), '429': htmlPage('too many attempts') } },
      },
      '/logout': { post: { tags: ['pages'], summary: 'Sign out (CSRF-protected)', responses: { '303': { description: 'signed out' } } } },
      '/account': { get: { tags: ['pages'], summary: 'Connected apps: the person’s grants', responses: { '200': htmlPage('connected apps'), '302': { description: 'to the login page' } } } },
      '/account/grants/{id}/revoke': { post: { tags: ['pages'], summary: 'Revoke one of the person’s grants (CSRF-protected)', parameters: [pathParam('id')], responses: { '303': { description: 'revoked' } } } },
      '/assets/grantor.css': { get: { tags: ['pages'], summary: 'The pages’ stylesheet', responses: { '200': { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } } } } },
      '/oauth/revoke': {
        options: corsPreflight,
        post: {
          tags: ['oauth'],
          summary: 'Token revocation (RFC 7009): revokes the token’s whole grant',
          description: 'Client authentication as at the token endpoint (public clients send client_id). Unknown, foreign or already revoked tokens still answer 200.',
          requestBody: formBody({ token: { type: 'string' }, token_type_hint: { type: 'string' }, client_id: { type: 'string' }, client_secret: { type: 'string' }, client_assertion_type: { type: 'string' }, client_assertion: { type: 'string' } }, ['token']),
          responses: { '200': jsonResponse('revoked, or nothing to revoke: an empty JSON object (RFC 7009 §2.2: the body is ignored)', { type: 'object', additionalProperties: false }), '400': oauthError('invalid_request'), '401': oauthError('invalid_client') },
        },
      },
      '/oauth/introspect': {
        options: corsPreflight,
        post: {
          tags: ['oauth'],
          summary: 'Token introspection (RFC 7662)',
          description: 'A client sees its own tokens; a client registered with the `introspect` permission sees every token. Anything else is {"active": false}.',
          requestBody: formBody({ token: { type: 'string' }, token_type_hint: { type: 'string' }, client_id: { type: 'string' }, client_secret: { type: 'string' }, client_assertion_type: { type: 'string' }, client_assertion: { type: 'string' } }, ['token']),
          responses: { '200': jsonResponse('introspection response', ref('Introspection')), '400': oauthError('invalid_request'), '401': oauthError('invalid_client') },
        },
      },
      '/statuslists/1': {
        get: {
          tags: ['revocation'],
          summary: 'The status list token (draft-ietf-oauth-status-list-20): one bit per grant, 1 = revoked',
          parameters: [{ name: 'time', in: 'query', schema: { type: 'integer' }, description: 'historical resolution: not supported (501)' }],
          responses: {
            '200': { description: 'a JWT with typ statuslist+jwt', content: { 'application/statuslist+jwt': { schema: { type: 'string' } } } },
            '304': { description: 'not modified' },
            '501': oauthError('historical resolution is not offered'),
          },
        },
      },
      '/.well-known/oauth-authorization-server': {
        options: publicPreflight,
        get: { tags: ['discovery'], summary: 'Authorization server metadata (RFC 8414)', responses: { '200': jsonResponse('metadata', { type: 'object' }) } },
      },
      '/.well-known/jwks.json': {
        options: publicPreflight,
        get: {
          tags: ['discovery'],
          summary: 'Public signing keys (RFC 7517), with ETag and Cache-Control',
          responses: { '200': { description: 'JWK Set', content: { 'application/jwk-set+json': { schema: ref('Jwks') } } }, '304': { description: 'not modified' } },
        },
      },
      '/openapi.json': { get: { tags: ['discovery'], summary: 'This document', responses: { '200': jsonResponse('OpenAPI 3.1', { type: 'object' }) } } },
      // With OPS_PORT the operations endpoints are on their own listener, not on this server.
      ...(config.ops ? {} : {
        '/healthz': { get: { tags: ['operations'], summary: 'Liveness', responses: { '200': jsonResponse('alive', { type: 'object' }) } } },
        '/readyz': { get: { tags: ['operations'], summary: 'Readiness: the database answers and a signing key is loaded', responses: { '200': jsonResponse('ready', { type: 'object' }), '503': jsonResponse('not ready, with the failed checks', { type: 'object' }) } } },
        '/metrics': { get: { tags: ['operations'], summary: 'Prometheus metrics: tokens by grant type, errors by code, latency histograms, revocations, key ages', responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      }),
      '/admin/resources': {
        post: { ...admin, summary: 'Register a resource (API)', requestBody: jsonBody(ref('CreateResource')), responses: { '201': jsonResponse('created', ref('Resource')), '409': oauthError('identifier taken'), ...adminErrors } },
        get: { ...admin, summary: 'List resources', parameters: listParams, responses: { '200': jsonResponse('a page', pageOf('Resource')), ...adminErrors } },
      },
      '/admin/resources/{id}': {
        get: { ...admin, summary: 'Read a resource', parameters: [pathParam('id')], responses: { '200': jsonResponse('the resource', ref('Resource')), ...adminErrors } },
        patch: { ...admin, summary: 'Change a resource', parameters: [pathParam('id')], requestBody: jsonBody(ref('UpdateResource')), responses: { '200': jsonResponse('the resource', ref('Resource')), ...adminErrors } },
        delete: { ...admin, summary: 'Delete a resource', parameters: [pathParam('id')], responses: { '204': { description: 'deleted' }, ...adminErrors } },
      },
      '/admin/clients': {
        post: { ...admin, summary: 'Register a client; a confidential client’s secret is in this answer only', requestBody: jsonBody(ref('CreateClient')), responses: { '201': jsonResponse('created', ref('ClientWithSecret')), ...adminErrors } },
        get: { ...admin, summary: 'List clients', parameters: queryParams(ClientListQuerySchema), responses: { '200': jsonResponse('a page', pageOf('Client')), ...adminErrors } },
      },
      '/admin/clients/{client_id}': {
        get: { ...admin, summary: 'Read a client', parameters: [pathParam('client_id')], responses: { '200': jsonResponse('the client', ref('Client')), ...adminErrors } },
        patch: { ...admin, summary: 'Change a client', parameters: [pathParam('client_id')], requestBody: jsonBody(ref('UpdateClient')), responses: { '200': jsonResponse('the client', ref('Client')), ...adminErrors } },
        delete: { ...admin, summary: 'Delete a client', parameters: [pathParam('client_id')], responses: { '204': { description: 'deleted' }, ...adminErrors } },
      },
      '/admin/clients/{client_id}/secret': {
        post: { ...admin, summary: 'Rotate a confidential client’s secret; the old one stops working', parameters: [pathParam('client_id')], responses: { '200': jsonResponse('the new secret', { type: 'object', properties: { client_id: { type: 'string' }, client_secret: { type: 'string' }, client_assertion_type: { type: 'string' }, client_assertion: { type: 'string' } } }), ...adminErrors } },
      },
      '/admin/blocked-clients': {
        post: { ...admin, summary: 'Block a client_id: a Client ID Metadata Document URL is refused before any fetch, a registered client is disabled; its grants are revoked', requestBody: jsonBody(json(BlockClientSchema)), responses: { '201': jsonResponse('blocked', ref('BlockedClient')), ...adminErrors } },
        get: { ...admin, summary: 'List blocked clients', parameters: listParams, responses: { '200': jsonResponse('a page', pageOf('BlockedClient')), ...adminErrors } },
      },
      '/admin/blocked-clients/{client_id}': {
        delete: { ...admin, summary: 'Lift a block (revoked grants stay revoked)', parameters: [pathParam('client_id')], responses: { '204': { description: 'unblocked' }, ...adminErrors } },
      },
      ...registrationPaths(config),
      '/admin/users': {
        post: { ...admin, summary: 'Create a person (password stored as a scrypt hash)', requestBody: jsonBody(json(CreateUserSchema)), responses: { '201': jsonResponse('created', ref('User')), '409': oauthError('username taken'), ...adminErrors } },
        get: { ...admin, summary: 'List people', parameters: listParams, responses: { '200': jsonResponse('a page', pageOf('User')), ...adminErrors } },
      },
      '/admin/users/{id}': {
        get: { ...admin, summary: 'Read a person', parameters: [pathParam('id')], responses: { '200': jsonResponse('the person', ref('User')), ...adminErrors } },
        patch: { ...admin, summary: 'Change a password, or disable (signs out and revokes their grants)', parameters: [pathParam('id')], requestBody: jsonBody(json(UpdateUserSchema)), responses: { '200': jsonResponse('the person', ref('User')), ...adminErrors } },
        delete: { ...admin, summary: 'Delete a person after revoking their grants', parameters: [pathParam('id')], responses: { '204': { description: 'deleted' }, ...adminErrors } },
      },
      '/admin/keys': {
        get: { ...admin, summary: 'The signing keys and their state (next, active, retired); never private parts', responses: { '200': jsonResponse('keys', { type: 'object', properties: { items: { type: 'array', items: ref('Key') } } }), ...adminErrors } },
      },
      '/admin/keys/rotate': {
        post: { ...admin, summary: 'Rotate: a new key is published now and signs after the publication delay', responses: { '201': jsonResponse('the new key', ref('Key')), ...adminErrors } },
      },
      '/admin/grants': {
        get: { ...admin, summary: 'List grants', parameters: queryParams(GrantListQuerySchema), responses: { '200': jsonResponse('a page', pageOf('Grant')), ...adminErrors } },
      },
      '/admin/grants/{id}': {
        get: { ...admin, summary: 'Read a grant', parameters: [pathParam('id')], responses: { '200': jsonResponse('the grant', ref('Grant')), ...adminErrors } },
        delete: {
          ...admin,
          summary: 'Revoke a grant (idempotent); every token issued under it stops working',
          parameters: [pathParam('id'), { name: 'reason', in: 'query', schema: { type: 'string' } }],
          requestBody: { required: false, content: { 'application/json': { schema: json(RevokeGrantBodySchema) } } },
          responses: { '200': jsonResponse('the revoked grant', ref('Grant')), ...adminErrors },
        },
      },
      '/admin/revocations': {
        post: { ...admin, summary: 'Revoke every grant of a client or of a person', requestBody: jsonBody(json(RevokeManySchema)), responses: { '200': jsonResponse('how many', { type: 'object', properties: { revoked: { type: 'integer' } } }), ...adminErrors } },
        get: {
          ...admin,
          summary: 'Read the revocation list from a sequence number on',
          parameters: queryParams(RevocationFeedQuerySchema),
          responses: { '200': jsonResponse('entries', { type: 'object', properties: { items: { type: 'array', items: ref('Revocation') }, next_since: { type: 'integer' } } }), ...adminErrors },
        },
      },
      [ssfConfigurationPath(config)]: {
        get: { tags: ['discovery', 'shared signals'], summary: 'Shared Signals transmitter configuration (SSF 1.0 §7)', responses: { '200': jsonResponse('configuration', { type: 'object' }) } },
      },
      '/ssf/streams': {
        post: { ...ssf, summary: 'Create an event stream (SSF 1.0 §8.1.1.1)', requestBody: jsonBody(json(CreateStreamSchema)), responses: { '201': jsonResponse('the stream configuration', ref('Stream')), '409': oauthError('conflict: too many streams'), ...ssfErrors } },
        get: { ...ssf, summary: 'Read one stream, or all of the caller\'s (SSF 1.0 §8.1.1.2)', parameters: queryParams(StreamQuerySchema), responses: { '200': jsonResponse('a stream, or an array of them', { oneOf: [ref('Stream'), { type: 'array', items: ref('Stream') }] }), ...ssfErrors } },
        patch: { ...ssf, summary: 'Change some properties of a stream (SSF 1.0 §8.1.1.3)', requestBody: jsonBody(json(UpdateStreamSchema)), responses: { '200': jsonResponse('the stream configuration', ref('Stream')), ...ssfErrors } },
        put: { ...ssf, summary: 'Replace a stream\'s properties (SSF 1.0 §8.1.1.4)', requestBody: jsonBody(json(ReplaceStreamSchema)), responses: { '200': jsonResponse('the stream configuration', ref('Stream')), ...ssfErrors } },
        delete: { ...ssf, summary: 'Delete a stream and its undelivered events (SSF 1.0 §8.1.1.5)', parameters: queryParams(StreamIdQuerySchema), responses: { '204': { description: 'deleted' }, ...ssfErrors } },
      },
      '/ssf/status': {
        get: { ...ssf, summary: 'Read a stream\'s status (SSF 1.0 §8.1.2.1)', parameters: queryParams(StreamIdQuerySchema), responses: { '200': jsonResponse('status', { type: 'object' }), ...ssfErrors } },
        post: { ...ssf, summary: 'Enable, pause or disable a stream (SSF 1.0 §8.1.2.2)', requestBody: jsonBody(json(UpdateStatusSchema)), responses: { '200': jsonResponse('status', { type: 'object' }), ...ssfErrors } },
      },
      '/ssf/verify': {
        post: { ...ssf, summary: 'Queue a verification event on a stream (SSF 1.0 §8.1.4.2)', requestBody: jsonBody(json(VerificationSchema)), responses: { '204': { description: 'queued' }, ...ssfErrors } },
      },
      '/ssf/streams/{id}/poll': {
        post: {
          ...ssf,
          summary: 'Poll a stream for SETs, acknowledging earlier ones (RFC 8936 §2.4); held up to SSF_LONG_POLL_TIMEOUT when nothing is pending',
          parameters: [pathParam('id')],
          requestBody: jsonBody(json(PollSchema)),
          responses: { '200': jsonResponse('SETs by jti', { type: 'object', properties: { sets: { type: 'object', additionalProperties: { type: 'string' } }, moreAvailable: { type: 'boolean' } }, required: ['sets'] }), ...ssfErrors },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token of Grantor’s with scope `admin` (ask for scope=admin with client_credentials).' },
        initialAccessToken: { type: 'http', scheme: 'bearer', description: 'REGISTRATION=token: an initial access token minted at POST /admin/registration-tokens (RFC 7591 §3).' },
      },
      schemas: {
        OAuthError: { type: 'object', properties: { error: { type: 'string' }, error_description: { type: 'string' } }, required: ['error'] },
        Stream: {
          type: 'object',
          description: 'SSF 1.0 §8.1.1 stream configuration; a push stream\'s authorization_header is never returned.',
          properties: {
            stream_id: { type: 'string' },
            iss: { type: 'string' },
            aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            events_supported: { type: 'array', items: { type: 'string' } },
            events_requested: { type: 'array', items: { type: 'string' } },
            events_delivered: { type: 'array', items: { type: 'string' } },
            delivery: { type: 'object', properties: { method: { type: 'string' }, endpoint_url: { type: 'string' } } },
            description: { type: 'string' },
          },
        },
        TokenResponse: {
          type: 'object',
          properties: { access_token: { type: 'string' }, token_type: { enum: ['Bearer', 'DPoP'] }, expires_in: { type: 'integer' }, scope: { type: 'string' }, refresh_token: { type: 'string' }, issued_token_type: { type: 'string', description: 'RFC 8693 §2.2.1: token exchange answers only.' } },
          required: ['access_token', 'token_type', 'expires_in'],
        },
        Jwks: { type: 'object', properties: { keys: { type: 'array', items: { type: 'object', properties: { kty: { type: 'string' }, kid: { type: 'string' }, use: { type: 'string' }, alg: { type: 'string' }, n: { type: 'string' }, e: { type: 'string' } } } } } },
        CreateResource: json(CreateResourceSchema),
        UpdateResource: json(UpdateResourceSchema),
        Resource: {
          type: 'object',
          properties: {
            id: { type: 'string' }, identifier: { type: 'string' }, name: { type: 'string' },
            scopes: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' } } } },
            access_token_ttl: { type: ['integer', 'null'] }, dynamic_client_scopes: { type: 'array', items: { type: 'string' } }, token_exchange_clients: { type: 'array', items: { type: 'string' } }, dpop_bound_access_tokens: { type: 'boolean' }, created_at: { type: 'integer' }, updated_at: { type: 'integer' },
          },
        },
        BlockedClient: { type: 'object', properties: { client_id: { type: 'string' }, reason: { type: ['string', 'null'] }, created_at: { type: 'integer' } } },
        CreateClient: json(CreateClientSchema),
        UpdateClient: json(UpdateClientSchema),
        Client: {
          type: 'object',
          properties: {
            client_id: { type: 'string' }, name: { type: 'string' }, type: { enum: ['confidential', 'public'] },
            grant_types: { type: 'array', items: { type: 'string' } }, redirect_uris: { type: 'array', items: { type: 'string' } },
            scopes: { type: 'array', items: { type: 'string' } }, disabled: { type: 'boolean' }, dpop_bound_access_tokens: { type: 'boolean' },
            token_endpoint_auth_method: { enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] },
            jwks: { type: 'object', description: 'private_key_jwt: the registered public keys (RFC 7517 §5).' },
            jwks_uri: { type: 'string', description: 'private_key_jwt: where the client publishes its keys.' },
            created_at: { type: 'integer' }, updated_at: { type: 'integer' },
          },
        },
        Key: {
          type: 'object',
          properties: { kid: { type: 'string' }, alg: { type: 'string' }, state: { enum: ['next', 'active', 'retired'] }, created_at: { type: 'integer' }, activates_at: { type: 'integer' }, removes_at: { type: ['integer', 'null'] } },
        },
        User: { type: 'object', properties: { id: { type: 'string' }, username: { type: 'string' }, disabled: { type: 'boolean' }, created_at: { type: 'integer' }, updated_at: { type: 'integer' } } },
        Grant: {
          type: 'object',
          properties: {
            id: { type: 'string' }, client_id: { type: 'string' }, user_id: { type: ['string', 'null'] }, kind: { type: 'string' },
            resource: { type: 'string' }, scope: { type: 'string' }, status: { enum: ['active', 'revoked'] }, status_index: { type: 'integer' }, parent_grant_id: { type: 'string', description: 'RFC 8693: the grant whose token was exchanged for this one (kind token_exchange); revoked with it.' },
            created_at: { type: 'integer' }, last_used_at: { type: ['integer', 'null'] }, revoked_at: { type: ['integer', 'null'] },
            revocation: { type: 'object', properties: { seq: { type: 'integer' }, reason: { type: 'string' }, revoked_by: { type: 'string' } } },
          },
        },
        Revocation: {
          type: 'object',
          properties: { seq: { type: 'integer' }, grant_id: { type: 'string' }, revoked_at: { type: 'integer' }, reason: { type: 'string' }, revoked_by: { type: 'string' } },
        },
        Introspection: {
          type: 'object',
          properties: {
            active: { type: 'boolean' }, scope: { type: 'string' }, client_id: { type: 'string' }, sub: { type: 'string' }, aud: { type: 'string' },
            iss: { type: 'string' }, exp: { type: 'integer' }, iat: { type: 'integer' }, jti: { type: 'string' }, token_type: { type: 'string' }, grant_id: { type: 'string' },
          },
          required: ['active'],
        },
        ClientWithSecret: { allOf: [ref('Client'), { type: 'object', properties: { client_secret: { type: 'string', description: 'Shown once.' } } }] },
      },
    },
  };
}

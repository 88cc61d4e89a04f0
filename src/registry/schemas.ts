/**
 * Strict, bounded schemas for what admins register. The admin HTTP API and the CLI both pass raw
 * input through these, and their `description`s feed the OpenAPI document.
 */
import { z } from 'zod';

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

const scopeName = z.string().min(1).max(128).regex(SCOPE_TOKEN, 'a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)');

/** The admin API's one scope (src/admin/). */
export const ADMIN_SCOPE = 'admin';
/** The Shared Signals API's one scope (src/ssf/). */
export const SSF_SCOPE = 'ssf';
/** A client whose registered scopes include this may introspect every token (a resource server; see oauth/introspect.ts). */
export const INTROSPECT_PERMISSION = 'introspect';
/**
 * Names a client's scopes give Grantor's own meaning: no registered API may name a scope so, or
 * allowing a client that API's scope would also allow it Grantor's admin API, Shared Signals
 * streams or introspection of every token.
 */
export const GRANTOR_SCOPES: readonly string[] = [ADMIN_SCOPE, SSF_SCOPE, INTROSPECT_PERMISSION];

/** The longest resource identifier the registry accepts. */
export const MAX_IDENTIFIER_LENGTH = 2048;

/** An absolute URI without a fragment (RFC 8707 §2), as resource identifiers must be. */
export const resourceIdentifier = z
  .string()
  .min(1)
  .max(MAX_IDENTIFIER_LENGTH)
  .refine(isAbsoluteUriWithoutFragment, 'must be an absolute URI without a fragment (RFC 8707 §2)')
  .describe('Absolute URI of the API; becomes the `aud` of its tokens.');

export function isAbsoluteUriWithoutFragment(value: string): boolean {
  if (/[\s\x00-\x1f\x7f]/.test(value) || value.includes('#')) return false;
  try {
    const url = new URL(value);
    return url.protocol.length > 1;
  } catch {
    return false;
  }
}

/** A redirect URI: absolute, no fragment (RFC 6749 §3.1.2); https, loopback http, or a private-use scheme. */
export const redirectUri = z
  .string()
  .min(1)
  .max(2048)
  .refine((v) => {
    if (!isAbsoluteUriWithoutFragment(v)) return false;
    const url = new URL(v);
    if (['javascript:', 'data:', 'vbscript:', 'file:'].includes(url.protocol)) return false;
    if (url.protocol === 'http:') return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    return true;
  }, 'must be an absolute https URI (http only on loopback) without a fragment');

/**
 * Text people read (names, scope descriptions): no control characters (C0, DEL, C1). PostgreSQL
 * refuses NUL in text while SQLite stores it, so the rule is here, the same on both.
 */
const CONTROL = /\p{Cc}/u;
const displayText = (max: number) => z.string().max(max).refine((v) => !CONTROL.test(v), 'must not contain control characters');

const name = z.string().trim().min(1).max(200).refine((v) => !CONTROL.test(v), 'must not contain control characters');

export const ScopeDefinitionSchema = z
  .object({
    name: scopeName
      .refine((s) => !GRANTOR_SCOPES.includes(s), 'admin, ssf and introspect are Grantor\'s own scopes: an API names its scopes otherwise')
      .describe('Scope name as clients ask for it; not `admin`, `ssf` or `introspect`, which are Grantor\'s own.'),
    description: displayText(500).default('').describe('What the scope allows, as shown to people on the consent page.'),
  })
  .strict();

const dynamicClientScopes = z
  .array(scopeName)
  .max(200)
  .describe('Scopes of this API that clients nobody vetted (Client ID Metadata Documents) may ask for; each one of `scopes`. A person still consents to each. Default: none.');

const tokenExchangeClients = z
  .array(z.string().min(1).max(512).regex(/^[\x20-\x7e]+$/, 'a client_id is printable ASCII (RFC 6749 Appendix A.1)'))
  .max(200)
  .describe('Clients (client ids) that may exchange an access token they were given for one of this API (RFC 8693 token exchange), acting for its subject. Default: none.');

export const CreateResourceSchema = z
  .object({
    identifier: resourceIdentifier,
    name: name.describe('Display name.'),
    scopes: z.array(ScopeDefinitionSchema).max(200).default([]).describe('Scopes this API understands.'),
    access_token_ttl: z.number().int().min(30).max(86400).nullable().optional().describe('Access token lifetime in seconds for this API; null uses the server default.'),
    dpop_bound_access_tokens: z.boolean().default(false).describe('Only DPoP-bound access tokens are issued for this API (RFC 9449): a token request for it without a DPoP proof is refused.'),
    dynamic_client_scopes: dynamicClientScopes.default([]),
    token_exchange_clients: tokenExchangeClients.default([]),
  })
  .strict();

export const UpdateResourceSchema = z
  .object({
    name: name.optional(),
    scopes: z.array(ScopeDefinitionSchema).max(200).optional(),
    access_token_ttl: z.number().int().min(30).max(86400).nullable().optional(),
    dpop_bound_access_tokens: z.boolean().optional(),
    dynamic_client_scopes: dynamicClientScopes.optional(),
    token_exchange_clients: tokenExchangeClients.optional(),
  })
  .strict();

/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** The signature algorithms a client assertion may use (RFC 7518 §3; RFC 8037): never `none` nor a MAC. */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** One public key (RFC 7517 §4): RSA, EC or OKP, without private members, at most 8 KB of JSON. */
export const publicJwk = z
  .record(z.string(), z.unknown())
  .refine((k) => ['RSA', 'EC', 'OKP'].includes(k.kty as string), 'kty must be RSA, EC or OKP (a public signing key)')
  .refine((k) => !PRIVATE_JWK_MEMBERS.some((m) => m in k), 'a key must be public: no d, p, q, dp, dq, qi, oth or k member')
  .refine((k) => k.kid === undefined || (typeof k.kid === 'string' && k.kid.length > 0 && k.kid.length <= 200), 'kid must be a string of 1 to 200 characters')
  .refine((k) => k.alg === undefined || (CLIENT_ASSERTION_ALGORITHMS as readonly unknown[]).includes(k.alg), `alg must be one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`)
  .refine((k) => k.use === undefined || k.use === 'sig', 'use must be sig')
  .refine((k) => JSON.stringify(k).length <= 8192, 'a key is at most 8 KB of JSON');

/** A client's public keys (RFC 7591 §2 `jwks`): 1 to 10 keys. */
export const publicJwks = z
  .object({ keys: z.array(publicJwk).min(1).max(10) })
  .strict()
  .describe('The client’s public keys as a JWK Set (RFC 7517 §5), for private_key_jwt: 1 to 10 RSA, EC or OKP keys, no private members.');

/** Where a client publishes its keys (RFC 7591 §2 `jwks_uri`): https, fetched with the outbound rules. */
export const jwksUri = z
  .string()
  .max(2048)
  .refine((v) => isAbsoluteUriWithoutFragment(v) && v.startsWith('https://'), 'must be an https URL without a fragment')
  .describe('https URL of the client’s JWK Set, for private_key_jwt; fetched with the outbound rules (OUTBOUND_ALLOWED_HOSTS admits named internal hosts) and cached.');

export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;

export const CreateClientSchema = z
  .object({
    name: name.describe('Display name, shown to people on the consent page.'),
    type: z.enum(['confidential', 'public']).default('confidential').describe('confidential clients hold a secret; public clients (browser, mobile) do not.'),
    grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(3).optional().describe('Grant types the client may use. Default: client_credentials for confidential clients, authorization_code + refresh_token for public ones.'),
    redirect_uris: z.array(redirectUri).max(20).default([]).describe('Exact redirect URIs for the authorization code flow.'),
    scopes: z.array(scopeName).max(200).default([]).describe('Scopes the client may ask for: each offered by a registered resource, or `admin`, or the `introspect` permission.'),
    dpop_bound_access_tokens: z.boolean().default(false).describe('The client always uses DPoP (RFC 9449 §5.2): its token requests without a DPoP proof are refused.'),
    token_endpoint_auth_method: z
      .enum(TOKEN_ENDPOINT_AUTH_METHODS)
      .optional()
      .describe('How the client authenticates (RFC 7591 §2). Default: client_secret_basic for confidential clients (a secret is made; Basic and the body both work), none for public ones. private_key_jwt (RFC 7523 §2.2): no secret; the client signs assertions with a key of `jwks` or `jwks_uri` (exactly one of them).'),
    jwks: publicJwks.optional(),
    jwks_uri: jwksUri.optional(),
  })
  .strict();

export const UpdateClientSchema = z
  .object({
    name: name.optional(),
    grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(3).optional(),
    redirect_uris: z.array(redirectUri).max(20).optional(),
    scopes: z.array(scopeName).max(200).optional(),
    disabled: z.boolean().optional().describe('A disabled client cannot authenticate.'),
    dpop_bound_access_tokens: z.boolean().optional(),
    jwks: publicJwks.nullable().optional().describe('Replaces a private_key_jwt client’s key set (null: use jwks_uri instead).'),
    jwks_uri: jwksUri.nullable().optional().describe('Replaces a private_key_jwt client’s key set URL (null: use jwks instead).'),
  })
  .strict();

/** Any client_id: a Client ID Metadata Document URL (up to 512 characters) or a registered client's id. */
export const AnyClientIdSchema = z.string().min(1).max(512).regex(/^[\x20-\x7e]+$/, 'a client_id is printable ASCII (RFC 6749 Appendix A.1)');

export const BlockClientSchema = z
  .object({
    client_id: AnyClientIdSchema.describe('The client to block: a Client ID Metadata Document URL, or a registered client.'),
    reason: displayText(200).optional().describe('Why (kept with the entry and in the revocation list).'),
  })
  .strict();

export const ListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size, 1 to 200.'),
    cursor: z.string().max(512).regex(/^[A-Za-z0-9_-]*$/, 'not a cursor from this API').optional().describe('next_cursor of the previous page.'),
  })
  .strict();

export const ClientListQuerySchema = z
  .object({
    limit: ListQuerySchema.shape.limit,
    cursor: ListQuerySchema.shape.cursor,
    source: z.enum(['admin', 'registration']).optional().describe('Only clients an admin registered (`admin`), or only those that registered themselves (`registration`, RFC 7591).'),
  })
  .strict();

export type CreateResourceInput = z.input<typeof CreateResourceSchema>;
export type CreateClientInput = z.input<typeof CreateClientSchema>;

export const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;
// Usernames are case-insensitive: stored lower-cased, so `Alice` and `alice` are one person.
const username = z
  .string()
  .regex(USERNAME, 'a username is 1 to 64 letters, digits or . _ @ + -')
  .transform((u) => u.toLowerCase())
  .describe('Login name, unique regardless of case.');
const password = z.string().min(8, 'a password has at least 8 characters').max(1024).describe('Stored only as a scrypt hash.');

export const CreateUserSchema = z.object({ username, password }).strict();

export const UpdateUserSchema = z
  .object({
    password: password.optional(),
    disabled: z.boolean().optional().describe('A disabled person cannot log in; their grants are revoked.'),
  })
  .strict();

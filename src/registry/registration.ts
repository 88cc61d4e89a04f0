/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592): a client registers
 * itself with its metadata and gets a client_id and a registration access token, with which it
 * may read, replace or delete its registration. Such a client is a row of `clients` like any
 * other, marked `source: 'registration'`: no one vetted it, so — like a metadata-document client —
 * it gets only the scopes resources opened to such clients (oauth/allowed-now.ts), a person
 * consents each time, and an admin can block it.
 */
import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { newClientId, randomToken } from '../lib/random.js';
import { hashSecret, secretMatches } from '../lib/secret.js';
import * as store from '../store/clients.js';
import { allResources } from '../store/resources.js';
import { spendRegistrationToken, usableRegistrationToken } from '../store/registration-tokens.js';
import type { ClientRow, RegisteredMetadata } from '../store/tables.js';
import { checkConsistency, checkKeys, deleteClient, recordClientChange, type ClientRegistryDeps } from './clients.js';
import { ClientMetadataSchema, type ClientMetadata } from './registration-schemas.js';
import { redirectUri } from './schemas.js';
import { addressKey } from '../lib/ip-address.js';

export type RegistrationDeps = ClientRegistryDeps & { config: Pick<Config, 'baseUrl' | 'registration'> };

export const REGISTRATION_PATH = '/oauth/register';

/** RFC 7591 §3.2.1 (and RFC 7592 §3): the client information response. */
export interface ClientInformation {
  client_id: string;
  client_id_issued_at: number;
  registration_access_token: string;
  registration_client_uri: string;
  client_name: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: string;
  scope: string;
  [member: string]: unknown;
}

/**
 * Who may register which client. Public clients (`none`, with PKCE at every authorization) or
 * `private_key_jwt` ones (RFC 7523 §2.2: they prove key possession at every token request):
 * nothing Grantor would have to keep as a shared secret for a client no one vetted, as for
 * metadata-document clients (issue #11: "public clients only unless the request authenticates a
 * stronger method"). Only authorization_code (and refresh_token): a person consents to every
 * scope such a client gets, so client_credentials, which has no person, is refused.
 */
const AUTH_METHODS = new Set<string>(['none', 'private_key_jwt']);
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

function metadataError(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

/** Validates the metadata and makes the client's fields (RFC 7591 §2), narrowed as Grantor stores them. */
async function clientFields(deps: Pick<RegistrationDeps, 'db'>, input: unknown) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw metadataError('the body must be a JSON object of client metadata');
  const parsed = ClientMetadataSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'body';
    throw new OAuthError(issue.path[0] === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', `${field}: ${issue.message}`);
  }
  const m: ClientMetadata = parsed.data;
  const asked = m.token_endpoint_auth_method ?? 'none';
  if (!AUTH_METHODS.has(asked)) throw metadataError('token_endpoint_auth_method: this server registers none or private_key_jwt clients only');
  const method = asked as 'none' | 'private_key_jwt';
  // RFC 7591 §2: the default grant type is authorization_code; the default response type code.
  const grantTypes = [...new Set(m.grant_types ?? ['authorization_code'])];
  if (!grantTypes.every((g) => GRANT_TYPES.has(g)) || !grantTypes.includes('authorization_code')) {
    throw metadataError('grant_types: authorization_code (and refresh_token) only');
  }
  const responseTypes = [...new Set(m.response_types ?? ['code'])];
  if (responseTypes.length !== 1 || responseTypes[0] !== 'code') throw metadataError('response_types: code only');
  // RFC 7591 §2: redirect URIs are required for redirect-based flows; each as strict as an admin's.
  const uris = m.redirect_uris ?? [];
  if (uris.length === 0) throw new OAuthError('invalid_redirect_uri', 'redirect_uris: at least one is required for authorization_code');
  for (const [i, uri] of uris.entries()) {
    const checked = redirectUri.safeParse(uri);
    if (!checked.success) throw new OAuthError('invalid_redirect_uri', `redirect_uris.${i}: ${checked.error.issues[0].message}`);
  }
  const redirectUris = [...new Set(uris as string[])];
  // RFC 7591 §2 `scope`: narrowed to what resources opened to unvetted clients; without it, all of them.
  const opened = new Set((await allResources(deps.db)).flatMap((r) => r.dynamicClientScopes));
  const askedScopes = m.scope === undefined ? undefined : new Set(m.scope.split(' ').filter(Boolean));
  const scopes = [...opened].filter((s) => askedScopes === undefined || askedScopes.has(s)).sort();
  const metadata: RegisteredMetadata = {};
  for (const k of ['client_uri', 'logo_uri', 'contacts', 'software_id', 'software_version'] as const) if (m[k] !== undefined) (metadata as Record<string, unknown>)[k] = m[k];
  const name = m.client_name?.trim() || new URL(redirectUris[0]).host || 'unnamed app';
  const fields = {
    name,
    type: method === 'private_key_jwt' ? 'confidential' : 'public',
    secretHash: null,
    grantTypes,
    redirectUris,
    scopes,
    dpopBoundAccessTokens: m.dpop_bound_access_tokens ?? false,
    tokenEndpointAuthMethod: method,
    jwks: m.jwks ?? null,
    jwksUri: m.jwks_uri ?? null,
    clientMetadata: metadata,
  } satisfies Partial<ClientRow>;
  try {
    checkConsistency(fields);
    await checkKeys(fields.jwks);
  } catch (err) {
    if (err instanceof OAuthError) throw metadataError(err.description);
    throw err;
  }
  return { fields, clientIdInBody: m.client_id };
}

function information(deps: Pick<RegistrationDeps, 'config'>, c: ClientRow, registrationAccessToken: string): ClientInformation {
  return {
    client_id: c.clientId,
    client_id_issued_at: c.createdAt,
    registration_access_token: registrationAccessToken,
    registration_client_uri: `${deps.config.baseUrl}${REGISTRATION_PATH}/${encodeURIComponent(c.clientId)}`,
    client_name: c.name,
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    scope: c.scopes.join(' '),
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    ...(c.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    ...(c.clientMetadata ?? {}),
  };
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function bearerToken(authorization: string | undefined): string | undefined {
  return authorization ? BEARER.exec(authorization)?.[1] : undefined;
}

/** RFC 6750 §3: 401 invalid_token with its challenge. */
function invalidToken(description: string, detail?: string): OAuthError {
  return new OAuthError('invalid_token', description, { detail, headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` } });
}

/**
 * RFC 7591 §3: registers a client. Under REGISTRATION=token the request carries an initial
 * access token (missing, unknown, expired, revoked or used up: 401 invalid_token). Then the abuse
 * controls: at most `perAddressPerHour` registrations from one address (429), at most
 * `maxClients` self-registered clients in all (403). A use of the token is spent in the same
 * transaction that stores the client, so a refused request spends nothing.
 */
export async function registerClient(deps: RegistrationDeps, input: unknown, request: { address: string; authorization: string | undefined }): Promise<ClientInformation> {
  const settings = deps.config.registration;
  const now = deps.clock.now();
  let initialTokenHash: string | undefined;
  if (settings.policy === 'token') {
    const token = bearerToken(request.authorization);
    if (!token) throw invalidToken('an initial access token is required to register', 'no or malformed Authorization header');
    initialTokenHash = hashSecret(token);
    if (!(await usableRegistrationToken(deps.db, initialTokenHash, now))) throw invalidToken('the initial access token is invalid, expired or used up');
  }
  // An IPv6 address counts by its /64 (lib/ip-address.ts).
  const registeredFrom = hashSecret(`registration-address:${addressKey(request.address)}`);
  if (settings.perAddressPerHour > 0) {
    const recent = await store.registeredFrom(deps.db, registeredFrom, now - 3600);
    if (recent.count >= settings.perAddressPerHour) {
      const retryAfter = Math.max(1, (recent.oldest ?? now) + 3600 - now);
      throw new OAuthError('rate_limited', `too many registrations from this address; retry after ${retryAfter} s`, { headers: { 'Retry-After': String(retryAfter) } });
    }
  }
  if (settings.maxClients > 0 && (await store.countRegisteredClients(deps.db)) >= settings.maxClients) {
    throw new OAuthError('access_denied', 'registration is closed for now: this server holds as many self-registered clients as it allows', { status: 403 });
  }
  const { fields } = await clientFields(deps, input);
  const registrationAccessToken = randomToken(32);
  const client: ClientRow = {
    ...fields,
    clientId: newClientId(),
    disabled: false,
    createdAt: now,
    updatedAt: now,
    source: 'registration',
    registrationTokenHash: hashSecret(registrationAccessToken),
    registeredFrom,
  };
  await deps.db.transaction(async (trx) => {
    if (initialTokenHash && !(await spendRegistrationToken(trx, initialTokenHash, now))) {
      throw invalidToken('the initial access token is invalid, expired or used up', 'spent by a concurrent registration');
    }
    await store.insertClient(trx, client);
  });
  await recordClientChange(deps);
  return information(deps, client, registrationAccessToken);
}

/**
 * RFC 7592 §2: the registration access token authenticates requests about one client. Wrong
 * token, unknown or deleted client, an admin's client, a client an admin blocked or disabled: the
 * same 401 invalid_token, so the answer never tells whether the client exists (§2.1, §2.2, §2.3).
 */
async function authenticate(deps: Pick<RegistrationDeps, 'db'>, clientId: string, authorization: string | undefined): Promise<{ client: ClientRow; token: string }> {
  const token = bearerToken(authorization);
  if (!token) throw invalidToken('a registration access token is required', 'no or malformed Authorization header');
  const client = clientId.length <= 512 ? await store.findClient(deps.db, clientId) : undefined;
  const stored = client?.source === 'registration' ? client.registrationTokenHash : undefined;
  // Compared in constant time; a missing client is compared against a hash nothing matches.
  const matches = secretMatches(token, stored ?? '-'.repeat(43));
  if (!client || !stored || !matches || client.disabled) throw invalidToken('the registration access token is invalid', client?.disabled ? 'client disabled or blocked' : 'no match');
  return { client, token };
}

/** RFC 7592 §2.1: reads a registration. The answer carries the token the client presented (only its hash is kept). */
export async function readRegistration(deps: RegistrationDeps, clientId: string, authorization: string | undefined): Promise<ClientInformation> {
  const { client, token } = await authenticate(deps, clientId, authorization);
  return information(deps, client, token);
}

/**
 * RFC 7592 §2.2: replaces the registration's metadata with the request's (omitted members take
 * their defaults). The registration access token is not rotated: §2.2 allows either, and a client
 * that loses this answer keeps access to its registration.
 */
export async function updateRegistration(deps: RegistrationDeps, clientId: string, input: unknown, authorization: string | undefined): Promise<ClientInformation> {
  const { client, token } = await authenticate(deps, clientId, authorization);
  const { fields, clientIdInBody } = await clientFields(deps, input);
  if (clientIdInBody !== client.clientId) throw metadataError('client_id: must be the client\'s own client_id (RFC 7592 §2.2)');
  const changes = { ...fields, updatedAt: deps.clock.now() };
  await store.updateClient(deps.db, client.clientId, changes);
  await recordClientChange(deps);
  return information(deps, { ...client, ...changes }, token);
}

/** RFC 7592 §2.3: deletes the registration; its grants are revoked, so its tokens stop working. */
export async function deleteRegistration(deps: RegistrationDeps, clientId: string, authorization: string | undefined): Promise<void> {
  const { client } = await authenticate(deps, clientId, authorization);
  await deleteClient(deps, client.clientId, `registration:${client.clientId}`);
}

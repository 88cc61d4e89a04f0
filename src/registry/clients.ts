import { importJWK } from 'jose';
import { OAuthError } from '../errors.js';
import { newClientId, randomToken } from '../lib/random.js';
import { hashSecret } from '../lib/secret.js';
import { revokeGrantsOf, type RevokeDeps } from '../revocation/revoke-grant.js';
import * as store from '../store/clients.js';
import { allResources } from '../store/resources.js';
import { deleteStreamsOf } from '../store/ssf-streams.js';
import { recordChange } from '../store/read-cache.js';
import type { ClientRow, Page, PublicJwks } from '../store/tables.js';
import { ClientListQuerySchema, CreateClientSchema, GRANTOR_SCOPES, INTROSPECT_PERMISSION, SSF_SCOPE, UpdateClientSchema } from './schemas.js';
import { validate } from '../lib/validate.js';

export type ClientRegistryDeps = RevokeDeps;

/**
 * Whether `client` may introspect every token, not only its own: an admin registered it and allowed
 * it the `introspect` permission. A client nobody vetted (self-registered, or known by its metadata
 * document) never may, whatever its scopes say: its scopes come from what APIs opened to such clients.
 */
export function mayIntrospectAny(client: Pick<ClientRow, 'scopes' | 'source'>): boolean {
  return client.source === undefined && client.scopes.includes(INTROSPECT_PERMISSION);
}

/** A client as the admin API and the CLI show it: never the secret hash. */
export interface ClientView {
  client_id: string;
  name: string;
  type: ClientRow['type'];
  grant_types: string[];
  redirect_uris: string[];
  scopes: string[];
  disabled: boolean;
  dpop_bound_access_tokens: boolean;
  token_endpoint_auth_method: ClientRow['tokenEndpointAuthMethod'];
  jwks?: PublicJwks;
  jwks_uri?: string;
  /** Present for a client that registered itself (RFC 7591); absent for an admin's. */
  source?: 'registration';
  created_at: number;
  updated_at: number;
}

/** Every instance drops its cached copies: this one now, the others at their next epoch poll. */
export async function recordClientChange(deps: Pick<ClientRegistryDeps, 'db' | 'readCache'>): Promise<void> {
  await recordChange(deps.db);
  deps.readCache.invalidate();
}

export function viewClient(c: ClientRow): ClientView {
  return {
    client_id: c.clientId,
    name: c.name,
    type: c.type,
    grant_types: c.grantTypes,
    redirect_uris: c.redirectUris,
    scopes: c.scopes,
    disabled: c.disabled,
    dpop_bound_access_tokens: c.dpopBoundAccessTokens,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    ...(c.source === 'registration' ? { source: 'registration' as const } : {}),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/**
 * A client may be allowed only scopes some API offers: a registered resource's, the admin API's
 * `admin`, the Shared Signals API's `ssf`, or the `introspect` permission (issue #10 item 12). Checked on create and update.
 */
async function checkScopesOffered(deps: Pick<ClientRegistryDeps, 'db'>, scopes: string[]): Promise<void> {
  const offered = new Set<string>(GRANTOR_SCOPES);
  for (const r of await allResources(deps.db)) for (const s of r.scopes) offered.add(s.name);
  const unknown = scopes.filter((s) => !offered.has(s));
  if (unknown.length) throw new OAuthError('invalid_request', `scopes: no resource offers ${unknown.join(', ')}`);
}

export function checkConsistency(c: Pick<ClientRow, 'type' | 'grantTypes' | 'redirectUris' | 'tokenEndpointAuthMethod' | 'jwks' | 'jwksUri'>): void {
  // RFC 7591 §2: a public client authenticates with none; a confidential one with a secret or keys.
  if ((c.type === 'public') !== (c.tokenEndpointAuthMethod === 'none')) {
    throw new OAuthError('invalid_request', 'token_endpoint_auth_method: none is for public clients, and only for them');
  }
  // RFC 7591 §2: jwks and jwks_uri MUST NOT both be present; private_key_jwt needs one (RFC 7523 §2.2).
  if (c.jwks && c.jwksUri) throw new OAuthError('invalid_request', 'jwks and jwks_uri: give one, not both');
  if (c.tokenEndpointAuthMethod === 'private_key_jwt' && !c.jwks && !c.jwksUri) {
    throw new OAuthError('invalid_request', 'private_key_jwt needs the client\'s public keys: jwks or jwks_uri');
  }
  if (c.tokenEndpointAuthMethod !== 'private_key_jwt' && (c.jwks || c.jwksUri)) {
    throw new OAuthError('invalid_request', 'jwks and jwks_uri are for private_key_jwt clients');
  }
  // RFC 6749 §4.4: client_credentials is for confidential clients only.
  if (c.type === 'public' && c.grantTypes.includes('client_credentials')) {
    throw new OAuthError('invalid_request', 'grant_types: a public client cannot use client_credentials');
  }
  if (c.grantTypes.includes('authorization_code') && c.redirectUris.length === 0) {
    throw new OAuthError('invalid_request', 'redirect_uris: the authorization_code grant needs at least one redirect URI');
  }
}

/** Every registered key must import as a public key (a malformed `n` or curve point is refused here, not at first use). */
export async function checkKeys(jwks: PublicJwks | null | undefined): Promise<void> {
  for (const [i, jwk] of (jwks?.keys ?? []).entries()) {
    try {
      const key = await importJWK({ ...jwk, ext: true } as Parameters<typeof importJWK>[0], (jwk.alg as string | undefined) ?? defaultAlg(jwk));
      if (key instanceof Uint8Array || key.type !== 'public') throw new Error('not a public key');
    } catch {
      throw new OAuthError('invalid_request', `jwks.keys[${i}]: not a usable public key`);
    }
  }
}

const defaultAlg = (jwk: Record<string, unknown>): string =>
  jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'OKP' ? 'EdDSA' : ({ 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv as string] ?? 'ES256';

/**
 * Registers a client. A secret client's secret is returned here once; only its hash is kept. A
 * private_key_jwt client gets no secret: it proves itself with its keys (RFC 7523 §2.2).
 */
export async function createClient(deps: ClientRegistryDeps, input: unknown): Promise<ClientView & { client_secret?: string }> {
  const body = validate(CreateClientSchema, input);
  const grantTypes = [...new Set(body.grant_types ?? (body.type === 'public' ? ['authorization_code', 'refresh_token'] : ['client_credentials']))];
  const now = deps.clock.now();
  const method = body.token_endpoint_auth_method ?? (body.type === 'public' ? 'none' : 'client_secret_basic');
  const secret = body.type === 'confidential' && method !== 'private_key_jwt' ? randomToken(32) : undefined;
  const client: ClientRow = {
    clientId: newClientId(),
    name: body.name,
    type: body.type,
    secretHash: secret ? hashSecret(secret) : null,
    grantTypes,
    redirectUris: [...new Set(body.redirect_uris)],
    scopes: [...new Set(body.scopes)],
    disabled: false,
    dpopBoundAccessTokens: body.dpop_bound_access_tokens,
    tokenEndpointAuthMethod: method,
    jwks: body.jwks ?? null,
    jwksUri: body.jwks_uri ?? null,
    createdAt: now,
    updatedAt: now,
  };
  checkConsistency(client);
  await checkKeys(client.jwks);
  await checkScopesOffered(deps, client.scopes);
  await store.insertClient(deps.db, client);
  await recordClientChange(deps);
  return secret ? { ...viewClient(client), client_secret: secret } : viewClient(client);
}

export async function getClient(deps: Pick<ClientRegistryDeps, 'db'>, clientId: string): Promise<ClientView> {
  const client = await store.findClient(deps.db, clientId);
  if (!client) throw new OAuthError('not_found', 'no such client');
  return viewClient(client);
}

export async function listClients(deps: Pick<ClientRegistryDeps, 'db'>, query: unknown): Promise<Page<ClientView>> {
  const { limit, cursor, source } = validate(ClientListQuerySchema, query);
  const page = await store.listClients(deps.db, { limit, cursor, source });
  return { items: page.items.map(viewClient), nextCursor: page.nextCursor };
}

export async function updateClient(deps: ClientRegistryDeps, clientId: string, input: unknown, by = 'admin'): Promise<ClientView> {
  const body = validate(UpdateClientSchema, input);
  const existing = await store.findClient(deps.db, clientId);
  if (!existing) throw new OAuthError('not_found', 'no such client');
  const changes: Partial<ClientRow> = { updatedAt: deps.clock.now() };
  if (body.name !== undefined) changes.name = body.name;
  if (body.grant_types !== undefined) changes.grantTypes = [...new Set(body.grant_types)];
  if (body.redirect_uris !== undefined) changes.redirectUris = [...new Set(body.redirect_uris)];
  if (body.scopes !== undefined) changes.scopes = [...new Set(body.scopes)];
  if (body.disabled !== undefined) changes.disabled = body.disabled;
  if (body.dpop_bound_access_tokens !== undefined) changes.dpopBoundAccessTokens = body.dpop_bound_access_tokens;
  if (body.jwks !== undefined) changes.jwks = body.jwks;
  if (body.jwks_uri !== undefined) changes.jwksUri = body.jwks_uri;
  const next = { ...existing, ...changes };
  checkConsistency(next);
  await checkKeys(changes.jwks);
  if (changes.scopes) await checkScopesOffered(deps, changes.scopes);
  await store.updateClient(deps.db, clientId, changes);
  await recordClientChange(deps);
  // A disabled client's grants are revoked: its tokens stop working everywhere, not only at the token endpoint.
  if (changes.disabled && !existing.disabled) {
    await revokeGrantsOf(deps, { clientId }, { reason: 'client disabled', by });
  }
  // Its Shared Signals streams serve a receiver an admin allowed `ssf`: with the scope taken away they
  // go, undelivered events included, as when the client is deleted (issue #13).
  if (changes.scopes && existing.scopes.includes(SSF_SCOPE) && !changes.scopes.includes(SSF_SCOPE)) {
    await deleteStreamsOf(deps.db, clientId);
  }
  return viewClient(next);
}

/** Replaces a confidential client's secret; the old one stops working at once. */
export async function rotateClientSecret(deps: ClientRegistryDeps, clientId: string): Promise<{ client_id: string; client_secret: string }> {
  const existing = await store.findClient(deps.db, clientId);
  if (!existing) throw new OAuthError('not_found', 'no such client');
  if (existing.type !== 'confidential') throw new OAuthError('invalid_request', 'a public client has no secret');
  if (existing.tokenEndpointAuthMethod === 'private_key_jwt') throw new OAuthError('invalid_request', 'a private_key_jwt client has no secret: change its keys instead');
  const secret = randomToken(32);
  await store.updateClient(deps.db, clientId, { secretHash: hashSecret(secret), updatedAt: deps.clock.now() });
  await recordClientChange(deps);
  return { client_id: clientId, client_secret: secret };
}

/** Deletes a client after revoking every grant it holds (the grants and the list entries stay), and its event streams. */
export async function deleteClient(deps: ClientRegistryDeps, clientId: string, by = 'admin'): Promise<void> {
  if (!(await store.findClient(deps.db, clientId))) throw new OAuthError('not_found', 'no such client');
  await store.updateClient(deps.db, clientId, { disabled: true });
  await recordClientChange(deps);
  await revokeGrantsOf(deps, { clientId }, { reason: 'client deleted', by });
  // Its Shared Signals streams go with it (issue #13), undelivered events included.
  await deleteStreamsOf(deps.db, clientId);
  await store.deleteClient(deps.db, clientId);
  await recordClientChange(deps);
}

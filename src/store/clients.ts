import type { Knex } from 'knex';
import { paginate } from './paginate.js';
import type { ClientRow, ClientType, Page, TokenEndpointAuthMethod } from './tables.js';
import { webOrigins } from '../lib/web-origin.js';

/** `clients.source` of a client that registered itself (RFC 7591). */
export const REGISTERED = 'registration';

interface RawClient {
  client_id: string;
  name: string;
  type: string;
  secret_hash: string | null;
  grant_types: string;
  redirect_uris: string;
  scopes: string;
  disabled: number | boolean;
  dpop_bound_access_tokens: number | boolean;
  token_endpoint_auth_method: string | null;
  jwks: string | null;
  jwks_uri: string | null;
  created_at: number | string;
  updated_at: number | string;
  source?: string | null;
  registration_token_hash?: string | null;
  registered_from?: string | null;
  client_metadata?: string | null;
}

const toRow = (r: RawClient): ClientRow => ({
  clientId: r.client_id,
  name: r.name,
  type: r.type as ClientType,
  secretHash: r.secret_hash,
  grantTypes: JSON.parse(r.grant_types),
  redirectUris: JSON.parse(r.redirect_uris),
  scopes: JSON.parse(r.scopes),
  disabled: Boolean(r.disabled),
  dpopBoundAccessTokens: Boolean(r.dpop_bound_access_tokens),
  // Rows from before migration 0009 hold null: a secret for confidential clients, none for public.
  tokenEndpointAuthMethod: (r.token_endpoint_auth_method ?? (r.type === 'public' ? 'none' : 'client_secret_basic')) as TokenEndpointAuthMethod,
  jwks: r.jwks ? JSON.parse(r.jwks) : null,
  jwksUri: r.jwks_uri,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  ...(r.source === REGISTERED
    ? {
        source: REGISTERED,
        registrationTokenHash: r.registration_token_hash ?? null,
        registeredFrom: r.registered_from ?? null,
        clientMetadata: r.client_metadata ? JSON.parse(r.client_metadata) : null,
      }
    : {}),
});

const toRaw = (c: Partial<ClientRow>): Partial<RawClient> => {
  const raw: Partial<RawClient> = {};
  if (c.clientId !== undefined) raw.client_id = c.clientId;
  if (c.name !== undefined) raw.name = c.name;
  if (c.type !== undefined) raw.type = c.type;
  if (c.secretHash !== undefined) raw.secret_hash = c.secretHash;
  if (c.grantTypes !== undefined) raw.grant_types = JSON.stringify(c.grantTypes);
  if (c.redirectUris !== undefined) raw.redirect_uris = JSON.stringify(c.redirectUris);
  if (c.scopes !== undefined) raw.scopes = JSON.stringify(c.scopes);
  if (c.disabled !== undefined) raw.disabled = c.disabled;
  if (c.dpopBoundAccessTokens !== undefined) raw.dpop_bound_access_tokens = c.dpopBoundAccessTokens;
  if (c.tokenEndpointAuthMethod !== undefined) raw.token_endpoint_auth_method = c.tokenEndpointAuthMethod;
  if (c.jwks !== undefined) raw.jwks = c.jwks === null ? null : JSON.stringify(c.jwks);
  if (c.jwksUri !== undefined) raw.jwks_uri = c.jwksUri;
  if (c.createdAt !== undefined) raw.created_at = c.createdAt;
  if (c.updatedAt !== undefined) raw.updated_at = c.updatedAt;
  // Only self-registration is stored; a metadata-document client is never a row.
  if (c.source === REGISTERED) raw.source = REGISTERED;
  if (c.registrationTokenHash !== undefined) raw.registration_token_hash = c.registrationTokenHash;
  if (c.registeredFrom !== undefined) raw.registered_from = c.registeredFrom;
  if (c.clientMetadata !== undefined) raw.client_metadata = c.clientMetadata === null ? null : JSON.stringify(c.clientMetadata);
  return raw;
};

export async function insertClient(db: Knex, client: ClientRow): Promise<void> {
  await db('clients').insert(toRaw(client));
}

export async function findClient(db: Knex, clientId: string): Promise<ClientRow | undefined> {
  const raw = await db<RawClient>('clients').where({ client_id: clientId }).first();
  return raw ? toRow(raw) : undefined;
}

/** The origins of every registered redirect URI (http and https ones only). */
export async function allRedirectOrigins(db: Knex): Promise<Set<string>> {
  const rows = (await db('clients').where({ disabled: false }).select('redirect_uris')) as Array<{ redirect_uris: string }>;
  const origins = new Set<string>();
  for (const r of rows) for (const origin of webOrigins(JSON.parse(r.redirect_uris) as string[])) origins.add(origin);
  return origins;
}

export async function listClients(db: Knex, opts: { limit: number; cursor?: string; source?: 'admin' | 'registration' }): Promise<Page<ClientRow>> {
  const q = db('clients').select('*');
  if (opts.source === 'registration') q.where({ source: REGISTERED });
  if (opts.source === 'admin') q.whereNull('source');
  return paginate(q, 'client_id', opts, toRow);
}

/** How many self-registered clients exist (the REGISTRATION_MAX_CLIENTS cap). */
export async function countRegisteredClients(db: Knex): Promise<number> {
  const row = (await db('clients').where({ source: REGISTERED }).count({ n: '*' }).first()) as { n: number | string };
  return Number(row.n);
}

/** How many clients registered themselves from this address (hash) since `since`, and the oldest one's time. */
export async function registeredFrom(db: Knex, addressHash: string, since: number): Promise<{ count: number; oldest: number | null }> {
  const row = (await db('clients').where({ registered_from: addressHash }).where('created_at', '>', since).count({ n: '*' }).min({ oldest: 'created_at' }).first()) as {
    n: number | string;
    oldest: number | string | null;
  };
  return { count: Number(row.n), oldest: row.oldest === null ? null : Number(row.oldest) };
}

/**
 * The reaper (issue #11): deletes self-registered clients that have held no grant for `idleTtl`
 * seconds — registered that long ago, with no grant created or used since and none still live.
 * One conditional DELETE, so instances pruning at once never race: each row goes once, and a
 * client that got a grant meanwhile is kept. Returns how many went.
 */
export async function deleteIdleRegisteredClients(db: Knex, now: number, idleTtl: number): Promise<number> {
  const cutoff = now - idleTtl;
  return db('clients')
    .where({ source: REGISTERED })
    .where('created_at', '<=', cutoff)
    .whereNotExists(
      db('grants')
        .select(db.raw('1'))
        .whereRaw('grants.client_id = clients.client_id')
        .where((g) =>
          g
            .where('grants.created_at', '>', cutoff)
            .orWhere('grants.last_used_at', '>', cutoff)
            .orWhere((live) => live.whereNull('grants.revoked_at').where((e) => e.whereNull('grants.expires_at').orWhere('grants.expires_at', '>', now))),
        ),
    )
    .delete();
}

/** Updates the given fields; returns false when no such client exists. */
export async function updateClient(db: Knex, clientId: string, changes: Partial<ClientRow>): Promise<boolean> {
  const n = await db('clients').where({ client_id: clientId }).update(toRaw(changes));
  return n > 0;
}

export async function deleteClient(db: Knex, clientId: string): Promise<boolean> {
  const n = await db('clients').where({ client_id: clientId }).delete();
  return n > 0;
}

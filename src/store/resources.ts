import type { Knex } from 'knex';
import { paginate } from './paginate.js';
import type { Page, ResourceRow } from './tables.js';

interface RawResource {
  id: string;
  identifier: string;
  name: string;
  scopes: string;
  access_token_ttl: number | null;
  dpop_bound_access_tokens: number | boolean;
  dynamic_client_scopes: string;
  token_exchange_clients: string;
  created_at: number | string;
  updated_at: number | string;
}

const toRow = (r: RawResource): ResourceRow => ({
  id: r.id,
  identifier: r.identifier,
  name: r.name,
  scopes: JSON.parse(r.scopes),
  accessTokenTtl: r.access_token_ttl === null ? null : Number(r.access_token_ttl),
  dpopBoundAccessTokens: Boolean(r.dpop_bound_access_tokens),
  dynamicClientScopes: JSON.parse(r.dynamic_client_scopes ?? '[]'),
  tokenExchangeClients: JSON.parse(r.token_exchange_clients ?? '[]'),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toRaw = (r: Partial<ResourceRow>): Partial<RawResource> => {
  const raw: Partial<RawResource> = {};
  if (r.id !== undefined) raw.id = r.id;
  if (r.identifier !== undefined) raw.identifier = r.identifier;
  if (r.name !== undefined) raw.name = r.name;
  if (r.scopes !== undefined) raw.scopes = JSON.stringify(r.scopes);
  if (r.accessTokenTtl !== undefined) raw.access_token_ttl = r.accessTokenTtl;
  if (r.dpopBoundAccessTokens !== undefined) raw.dpop_bound_access_tokens = r.dpopBoundAccessTokens;
  if (r.dynamicClientScopes !== undefined) raw.dynamic_client_scopes = JSON.stringify(r.dynamicClientScopes);
  if (r.tokenExchangeClients !== undefined) raw.token_exchange_clients = JSON.stringify(r.tokenExchangeClients);
  if (r.createdAt !== undefined) raw.created_at = r.createdAt;
  if (r.updatedAt !== undefined) raw.updated_at = r.updatedAt;
  return raw;
};

export async function insertResource(db: Knex, resource: ResourceRow): Promise<void> {
  await db('resources').insert(toRaw(resource));
}

export async function findResource(db: Knex, id: string): Promise<ResourceRow | undefined> {
  const raw = await db<RawResource>('resources').where({ id }).first();
  return raw ? toRow(raw) : undefined;
}

export async function findResourceByIdentifier(db: Knex, identifier: string): Promise<ResourceRow | undefined> {
  const raw = await db<RawResource>('resources').where({ identifier }).first();
  return raw ? toRow(raw) : undefined;
}

/** Every resource; the list is small (APIs, not users) and read whole to resolve scopes. */
export async function allResources(db: Knex): Promise<ResourceRow[]> {
  const raws = await db<RawResource>('resources').select('*').orderBy('identifier');
  return raws.map(toRow);
}

export async function listResources(db: Knex, opts: { limit: number; cursor?: string }): Promise<Page<ResourceRow>> {
  return paginate(db('resources').select('*'), 'id', opts, toRow);
}

export async function updateResource(db: Knex, id: string, changes: Partial<ResourceRow>): Promise<boolean> {
  return (await db('resources').where({ id }).update(toRaw(changes))) > 0;
}

export async function deleteResource(db: Knex, id: string): Promise<boolean> {
  return (await db('resources').where({ id }).delete()) > 0;
}

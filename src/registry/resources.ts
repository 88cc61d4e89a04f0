import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { randomId } from '../lib/random.js';
import type { Db } from '../store/db.js';
import * as store from '../store/resources.js';
import { recordChange, type ReadCache } from '../store/read-cache.js';
import type { Page, ResourceRow } from '../store/tables.js';
import { ADMIN_SCOPE, CreateResourceSchema, ListQuerySchema, SSF_SCOPE, UpdateResourceSchema } from './schemas.js';
import { validate } from '../lib/validate.js';

export type ResourceRegistryDeps = { db: Db; clock: Clock; readCache: Pick<ReadCache, 'invalidate'> };

/** The admin API is a resource of Grantor's own, with the single scope `admin` (ADMIN_SCOPE, ./schemas.ts). */
export const ADMIN_RESOURCE_ID = 'grantor-admin';

export function adminResource(config: Pick<Config, 'baseUrl'>): ResourceRow {
  return {
    id: ADMIN_RESOURCE_ID,
    identifier: adminAudience(config),
    name: 'Grantor admin API',
    scopes: [{ name: ADMIN_SCOPE, description: 'Manage Grantor: clients, resources, grants and keys.' }],
    accessTokenTtl: null,
    dpopBoundAccessTokens: false,
    dynamicClientScopes: [],
    // Nothing is exchanged into the admin API.
    tokenExchangeClients: [],
    createdAt: 0,
    updatedAt: 0,
  };
}

export function adminAudience(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}/admin`;
}

/**
 * The Shared Signals stream management and poll API (issue #13, src/ssf/) is another resource of
 * Grantor's own, with the single scope `ssf`: an admin allows a resource server's client that
 * scope, as `admin` for the admin API.
 */
export const SSF_RESOURCE_ID = 'grantor-ssf';

export function ssfAudience(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}/ssf`;
}

export function ssfResource(config: Pick<Config, 'baseUrl'>): ResourceRow {
  return {
    ...adminResource(config),
    id: SSF_RESOURCE_ID,
    identifier: ssfAudience(config),
    name: 'Grantor Shared Signals streams',
    scopes: [{ name: SSF_SCOPE, description: 'Manage and poll Shared Signals event streams (grant revocations).' }],
  };
}

/** Grantor's own resources: the admin API and the Shared Signals API. */
export function builtInResources(config: Pick<Config, 'baseUrl'>): ResourceRow[] {
  return [adminResource(config), ssfResource(config)];
}

export interface ResourceView {
  id: string;
  identifier: string;
  name: string;
  scopes: ResourceRow['scopes'];
  access_token_ttl: number | null;
  dpop_bound_access_tokens: boolean;
  dynamic_client_scopes: string[];
  token_exchange_clients: string[];
  created_at: number;
  updated_at: number;
}

export function viewResource(r: ResourceRow): ResourceView {
  return {
    id: r.id,
    identifier: r.identifier,
    name: r.name,
    scopes: r.scopes,
    access_token_ttl: r.accessTokenTtl,
    dpop_bound_access_tokens: r.dpopBoundAccessTokens,
    dynamic_client_scopes: r.dynamicClientScopes,
    token_exchange_clients: r.tokenExchangeClients,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** Only scopes the resource defines can be opened to unvetted clients. */
function checkDynamicScopes(scopes: ResourceRow['scopes'], dynamic: string[]): void {
  const names = new Set(scopes.map((s) => s.name));
  const unknown = dynamic.find((s) => !names.has(s));
  if (unknown !== undefined) throw new OAuthError('invalid_request', `dynamic_client_scopes: ${unknown} is not one of this resource's scopes`);
}

function checkScopesUnique(scopes: ResourceRow['scopes']): void {
  const seen = new Set<string>();
  for (const s of scopes) {
    if (seen.has(s.name)) throw new OAuthError('invalid_request', `scopes: ${s.name} is listed twice`);
    seen.add(s.name);
  }
}

export async function createResource(deps: ResourceRegistryDeps & { config: Pick<Config, 'baseUrl'> }, input: unknown): Promise<ResourceView> {
  const body = validate(CreateResourceSchema, input);
  checkScopesUnique(body.scopes);
  checkDynamicScopes(body.scopes, body.dynamic_client_scopes);
  if (builtInResources(deps.config).some((r) => r.identifier === body.identifier)) throw new OAuthError('conflict', 'identifier: reserved for Grantor\'s own APIs');
  if (await store.findResourceByIdentifier(deps.db, body.identifier)) {
    throw new OAuthError('conflict', 'identifier: a resource with this identifier exists');
  }
  const now = deps.clock.now();
  const resource: ResourceRow = {
    id: randomId(),
    identifier: body.identifier,
    name: body.name,
    scopes: body.scopes,
    accessTokenTtl: body.access_token_ttl ?? null,
    dpopBoundAccessTokens: body.dpop_bound_access_tokens,
    dynamicClientScopes: [...new Set(body.dynamic_client_scopes)],
    tokenExchangeClients: [...new Set(body.token_exchange_clients)],
    createdAt: now,
    updatedAt: now,
  };
  try {
    await store.insertResource(deps.db, resource);
  } catch (err) {
    // Two admins racing on one identifier: the unique index decides.
    if (await store.findResourceByIdentifier(deps.db, body.identifier)) {
      throw new OAuthError('conflict', 'identifier: a resource with this identifier exists');
    }
    throw err;
  }
  await changed(deps);
  return viewResource(resource);
}

export async function getResource(deps: Pick<ResourceRegistryDeps, 'db'>, id: string): Promise<ResourceView> {
  const r = await store.findResource(deps.db, id);
  if (!r) throw new OAuthError('not_found', 'no such resource');
  return viewResource(r);
}

export async function listResources(deps: Pick<ResourceRegistryDeps, 'db'>, query: unknown): Promise<Page<ResourceView>> {
  const { limit, cursor } = validate(ListQuerySchema, query);
  const page = await store.listResources(deps.db, { limit, cursor });
  return { items: page.items.map(viewResource), nextCursor: page.nextCursor };
}

export async function updateResource(deps: ResourceRegistryDeps, id: string, input: unknown): Promise<ResourceView> {
  const body = validate(UpdateResourceSchema, input);
  const existing = await store.findResource(deps.db, id);
  if (!existing) throw new OAuthError('not_found', 'no such resource');
  const changes: Partial<ResourceRow> = { updatedAt: deps.clock.now() };
  if (body.name !== undefined) changes.name = body.name;
  if (body.scopes !== undefined) {
    checkScopesUnique(body.scopes);
    changes.scopes = body.scopes;
  }
  if (body.access_token_ttl !== undefined) changes.accessTokenTtl = body.access_token_ttl;
  if (body.dpop_bound_access_tokens !== undefined) changes.dpopBoundAccessTokens = body.dpop_bound_access_tokens;
  if (body.dynamic_client_scopes !== undefined) changes.dynamicClientScopes = [...new Set(body.dynamic_client_scopes)];
  if (body.token_exchange_clients !== undefined) changes.tokenExchangeClients = [...new Set(body.token_exchange_clients)];
  // A scope taken from the resource is taken from unvetted clients too.
  const dynamic = changes.dynamicClientScopes ?? existing.dynamicClientScopes;
  const scopes = changes.scopes ?? existing.scopes;
  if (body.dynamic_client_scopes !== undefined) checkDynamicScopes(scopes, dynamic);
  else changes.dynamicClientScopes = dynamic.filter((s) => scopes.some((d) => d.name === s));
  await store.updateResource(deps.db, id, changes);
  await changed(deps);
  return viewResource({ ...existing, ...changes });
}

export async function deleteResource(deps: ResourceRegistryDeps, id: string): Promise<void> {
  if (!(await store.deleteResource(deps.db, id))) throw new OAuthError('not_found', 'no such resource');
  await changed(deps);
}

/** Every instance drops its cached copies: this one now, the others at their next epoch poll. */
async function changed(deps: ResourceRegistryDeps): Promise<void> {
  await recordChange(deps.db);
  deps.readCache.invalidate();
}

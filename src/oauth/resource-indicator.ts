import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { adminResource } from '../registry/resources.js';
import { isAbsoluteUriWithoutFragment } from '../registry/schemas.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow, ResourceRow } from '../store/tables.js';

export type ResourceDeps = { readCache: Pick<ReadCache, 'resource' | 'resources'>; config: Pick<Config, 'baseUrl'> };

export interface Audience {
  resource: ResourceRow;
  /** The scopes the token will carry. */
  scopes: string[];
}

/**
 * Picks the resource a token is for (RFC 8707) and the scopes it carries.
 * - `resource` given: an absolute URI without fragment naming a registered resource, else invalid_target.
 * - omitted: the one resource that defines the requested scopes (or, with no scope asked, the one
 *   resource the client has scopes on); none or several → invalid_target.
 * Scopes: requested ⊆ (client's scopes ∩ resource's scopes), else invalid_scope; none requested →
 * all of that intersection.
 */
export async function resolveAudience(
  deps: ResourceDeps,
  client: ClientRow,
  resourceParams: string[],
  requested: string[] | undefined,
): Promise<Audience> {
  if (resourceParams.length > 1) throw new OAuthError('invalid_target', 'one resource per access token');
  const resource = resourceParams.length === 1
    ? await findByIdentifier(deps, resourceParams[0])
    : await onlyResourceFor(deps, client, requested);

  const offered = new Set(resource.scopes.map((s) => s.name));
  const allowed = client.scopes.filter((s) => offered.has(s));
  if (requested) {
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length) throw new OAuthError('invalid_scope', 'the requested scope exceeds what the client may have', { detail: `refused: ${refused.join(' ')}` });
    return { resource, scopes: requested };
  }
  if (allowed.length === 0) throw new OAuthError('invalid_scope', 'the client may not have any scope of this resource');
  return { resource, scopes: allowed };
}

async function findByIdentifier(deps: ResourceDeps, identifier: string): Promise<ResourceRow> {
  if (!isAbsoluteUriWithoutFragment(identifier)) {
    throw new OAuthError('invalid_target', 'resource must be an absolute URI without a fragment');
  }
  const admin = adminResource(deps.config);
  if (identifier === admin.identifier) return admin;
  const found = await deps.readCache.resource(identifier);
  if (!found) throw new OAuthError('invalid_target', 'unknown resource');
  return found;
}

async function onlyResourceFor(deps: ResourceDeps, client: ClientRow, requested: string[] | undefined): Promise<ResourceRow> {
  const wanted = requested ?? client.scopes;
  const all = [adminResource(deps.config), ...(await deps.readCache.resources())];
  const candidates = all.filter((r) => {
    const names = new Set(r.scopes.map((s) => s.name));
    return requested ? requested.every((s) => names.has(s)) : wanted.some((s) => names.has(s));
  });
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    if (requested) throw new OAuthError('invalid_scope', 'no resource offers the requested scope');
    throw new OAuthError('invalid_target', 'the client has no resource to ask a token for');
  }
  throw new OAuthError('invalid_target', 'several resources match: name one with the resource parameter');
}

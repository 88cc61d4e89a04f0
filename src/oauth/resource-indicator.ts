import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { builtInResources } from '../registry/resources.js';
import { isAbsoluteUriWithoutFragment, MAX_IDENTIFIER_LENGTH } from '../registry/schemas.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow, ResourceRow } from '../store/tables.js';
import { scopesAllowed } from './allowed-now.js';

export type ResourceDeps = { readCache: Pick<ReadCache, 'resources'>; config: Pick<Config, 'baseUrl'> };

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
  const named = resourceParams[0];
  if (named !== undefined && !isAbsoluteUriWithoutFragment(named)) {
    throw new OAuthError('invalid_target', 'resource must be an absolute URI without a fragment');
  }
  // Longer than any identifier the registry accepts: unknown without a look.
  if (named !== undefined && named.length > MAX_IDENTIFIER_LENGTH) throw new OAuthError('invalid_target', 'unknown resource');

  const held = await deps.readCache.resources();
  try {
    return pickAudience(deps, held, client, named, requested);
  } catch (err) {
    // The copy may predate a resource registered a moment ago on another instance: re-read it
    // before refusing (the read cache remembers a re-read miss, so a repeated probe costs nothing).
    const missing = `audience ${client.clientId} ${named ?? ''} ${requested?.join(' ') ?? '*'}`;
    const reread = await deps.readCache.resources({ missing });
    if (reread === held) throw err;
    return pickAudience(deps, reread, client, named, requested);
  }
}

/**
 * RFC 8707 §2.2 at the token endpoint under an existing grant (a code's redemption, a refresh): the
 * token is for the grant's resource, so `resource`, when given, must name exactly that one; any other
 * value, or several, is invalid_target before anything is spent (the token request fails as a
 * whole, never answered for another audience than asked).
 */
export function requireGrantResource(resourceParams: string[], grantResource: string): void {
  if (resourceParams.length > 1) throw new OAuthError('invalid_target', 'one resource per access token');
  const named = resourceParams[0];
  if (named !== undefined && named !== grantResource) {
    throw new OAuthError('invalid_target', 'the grant does not cover this resource', { detail: `grant for ${grantResource}` });
  }
}

function pickAudience(deps: ResourceDeps, registered: ResourceRow[], client: ClientRow, named: string | undefined, requested: string[] | undefined): Audience {
  const resource = named !== undefined ? findByIdentifier(deps, registered, named) : onlyResourceFor(deps, registered, client, requested);
  const allowed = scopesAllowed(client, resource);
  if (requested) {
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length) throw new OAuthError('invalid_scope', 'the requested scope exceeds what the client may have', { detail: `refused: ${refused.join(' ')}` });
    return { resource, scopes: requested };
  }
  if (allowed.length === 0) throw new OAuthError('invalid_scope', 'the client may not have any scope of this resource');
  return { resource, scopes: allowed };
}

function findByIdentifier(deps: ResourceDeps, registered: ResourceRow[], identifier: string): ResourceRow {
  const own = builtInResources(deps.config).find((r) => r.identifier === identifier);
  if (own) return own;
  const found = registered.find((r) => r.identifier === identifier);
  if (!found) throw new OAuthError('invalid_target', 'unknown resource');
  return found;
}

function onlyResourceFor(deps: ResourceDeps, registered: ResourceRow[], client: ClientRow, requested: string[] | undefined): ResourceRow {
  const all = [...builtInResources(deps.config), ...registered];
  const candidates = all.filter((r) => {
    const names = new Set(r.scopes.map((s) => s.name));
    return requested ? requested.every((s) => names.has(s)) : scopesAllowed(client, r).length > 0;
  });
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    if (requested) throw new OAuthError('invalid_scope', 'no resource offers the requested scope');
    throw new OAuthError('invalid_target', 'the client has no resource to ask a token for');
  }
  throw new OAuthError('invalid_target', 'several resources match: name one with the resource parameter');
}

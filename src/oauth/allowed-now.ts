import type { ClientRow, ResourceRow } from '../store/tables.js';

/**
 * The scopes of `resource` that `client` may have now: those the client may ask for and the
 * resource offers — and, for a client nobody vetted (one known by its metadata document, issue
 * #11), only those the resource opened to such clients (`dynamicClientScopes`; none by default).
 */
export function scopesAllowed(client: Pick<ClientRow, 'scopes' | 'source'>, resource: Pick<ResourceRow, 'scopes' | 'dynamicClientScopes'>): string[] {
  const offered = new Set(resource.scopes.map((s) => s.name));
  const opened = client.source === undefined ? undefined : new Set(resource.dynamicClientScopes);
  return client.scopes.filter((s) => offered.has(s) && (opened === undefined || opened.has(s)));
}

/**
 * Of `scopes`, those the client may still ask for and the resource still offers. A grant holds
 * what a person approved once; an admin may since have taken a scope from the client or from the
 * resource, and what Grantor issues is never more than both allow now (issue #10).
 */
export function allowedNow(scopes: string[], client: Pick<ClientRow, 'scopes' | 'source'>, resource: Pick<ResourceRow, 'scopes' | 'dynamicClientScopes'>): string[] {
  const allowed = new Set(scopesAllowed(client, resource));
  return scopes.filter((s) => allowed.has(s));
}

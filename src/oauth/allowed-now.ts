import type { ClientRow, ResourceRow } from '../store/tables.js';

/**
 * Of `scopes`, those the client may still ask for and the resource still offers. A grant holds
 * what a person approved once; an admin may since have taken a scope from the client or from the
 * resource, and what Grantor issues is never more than both allow now (issue #10).
 */
export function allowedNow(scopes: string[], client: Pick<ClientRow, 'scopes'>, resource: Pick<ResourceRow, 'scopes'>): string[] {
  const offered = new Set(resource.scopes.map((s) => s.name));
  return scopes.filter((s) => client.scopes.includes(s) && offered.has(s));
}

import type { ReadCache } from '../store/read-cache.js';
import { webOrigins } from '../lib/web-origin.js';
import { isMetadataDocumentUrl } from './client-metadata-document.js';

export type BrowserAppOriginDeps = { readCache: Pick<ReadCache, 'redirectOrigins' | 'client'> };

/**
 * Whether a browser app at `origin` may read an answer of the token, revocation or introspection
 * endpoint (CORS; RFC 6749 §3.2 is silent, OAuth 2.1 browser-based apps need it): when `origin` is
 * that of a registered client's redirect URI, or, once the request names its client, that of a
 * redirect URI of the Client ID Metadata Document it names (an app whose origins no list holds).
 * A preflight names no client: it is decided on registered clients' origins alone.
 */
export async function browserAppMayRead(deps: BrowserAppOriginDeps, origin: string, clientId?: string | null): Promise<boolean> {
  if ((await deps.readCache.redirectOrigins()).has(origin)) return true;
  if (!clientId || !isMetadataDocumentUrl(clientId)) return false;
  const client = await deps.readCache.client(clientId);
  return client !== undefined && webOrigins(client.redirectUris).has(origin);
}

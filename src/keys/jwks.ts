import { prepareDocument, type PreparedDocument } from '../http/prepared-document.js';
import type { KeyRing } from './key-ring.js';

/**
 * The JWKS document (RFC 7517 §5), prepared once per published key set (src/http/prepared-document.ts):
 * each call only lists the published kids (keys leave the set by time alone) and compares them
 * with the prepared document's.
 */
export function jwksDocuments(ring: KeyRing, maxAge: number): () => PreparedDocument {
  let prepared: PreparedDocument | undefined;
  return function currentJwks() {
    const keys = ring.publicJwks();
    const kids = keys.map((k) => k.kid).join(' ');
    if (prepared?.source !== kids) {
      prepared = prepareDocument({
        source: kids,
        body: JSON.stringify({ keys }),
        contentType: 'application/jwk-set+json',
        headers: { 'Cache-Control': `public, max-age=${maxAge}`, 'Access-Control-Allow-Origin': '*' },
      });
    }
    return prepared;
  };
}

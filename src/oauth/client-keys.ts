/**
 * The public keys of private_key_jwt clients (RFC 7523 §2.2): registered in place (`jwks`) or
 * published at a `jwks_uri`, fetched with the outbound rules (src/outbound/: https only, resolved
 * addresses checked, no redirects, size and time limits) and cached as Cache-Control says.
 */
import type { DocumentCache } from '../outbound/document-cache.js';
import type { FetchOutcome } from '../outbound/fetch-document.js';
import type { ClientRow, PublicJwks } from '../store/tables.js';

/** Largest JWK Set document accepted from a jwks_uri. */
export const MAX_JWKS_BYTES = 64 * 1024;
/** Seconds between two refetches of one jwks_uri forced by an unknown `kid`. */
export const UNKNOWN_KID_COOLDOWN = 60;

export type KeysOutcome = { ok: true; jwks: PublicJwks } | { ok: false; reason: string };

export interface ClientKeys {
  /**
   * The client's key set. `refetch`: the cached set lacked the assertion's key (the client may have
   * rotated): fetch the jwks_uri again, at most once per UNKNOWN_KID_COOLDOWN per URL, so assertions
   * naming made-up kids cannot make Grantor fetch on every request.
   */
  keysOf(client: Pick<ClientRow, 'jwks' | 'jwksUri'>, opts?: { refetch?: boolean }): Promise<KeysOutcome>;
}

export interface ClientKeysDeps {
  /** Fetched key sets, by URL (bounded, honouring Cache-Control). */
  documents: DocumentCache;
  /** Fetches one document (fetchDocument with Grantor's outbound settings and MAX_JWKS_BYTES). */
  fetch: (url: string) => Promise<FetchOutcome>;
  now: () => number;
}

export function createClientKeys(deps: ClientKeysDeps): ClientKeys {
  const lastForced = new Map<string, number>();
  return {
    async keysOf(client, opts = {}) {
      if (client.jwks) return { ok: true, jwks: client.jwks };
      if (!client.jwksUri) return { ok: false, reason: 'the client has no keys' };
      const uri = client.jwksUri;
      if (opts.refetch) {
        const now = deps.now();
        if (now - (lastForced.get(uri) ?? -Infinity) < UNKNOWN_KID_COOLDOWN) return { ok: false, reason: 'unknown kid (jwks_uri refetched recently)' };
        if (lastForced.size >= 1000) lastForced.delete(lastForced.keys().next().value as string);
        lastForced.set(uri, now);
        deps.documents.forget(uri);
      }
      return parseJwks(await deps.documents.get(uri, deps.fetch));
    },
  };
}

/** A fetched JWK Set (RFC 7517 §5): a JSON object whose `keys` is an array (unusable keys are skipped later). */
export function parseJwks(fetched: FetchOutcome): KeysOutcome {
  if (!fetched.ok) return { ok: false, reason: `jwks_uri: ${fetched.reason}` };
  let doc: unknown;
  try {
    doc = JSON.parse(fetched.document.body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'jwks_uri: not JSON' };
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))) {
    return { ok: false, reason: 'jwks_uri: not a JWK Set' };
  }
  return { ok: true, jwks: { keys: keys as PublicJwks['keys'] } };
}

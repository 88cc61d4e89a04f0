/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00; section numbers
 * below are -00's — later revisions moved them, e.g. -02's §4 and §6 for -00's §4.1 and §5): an
 * app whose client_id is an https URL is known by the JSON document at that URL. Grantor fetches
 * it defensively (src/outbound/), checks it as the draft says, and sees the app as a client no one
 * vetted — public, or private_key_jwt with the keys it publishes — that gets only the scopes each
 * resource opened to such clients.
 */
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { DocumentCache } from '../outbound/document-cache.js';
import type { FetchOutcome } from '../outbound/fetch-document.js';
import { jwksUri as JwksUriSchema, publicJwks as PublicJwksSchema, redirectUri as RedirectUriSchema } from '../registry/schemas.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow, ResourceRow } from '../store/tables.js';

/** The longest client_id URL accepted (the longest client_id Grantor reads, and the column size). */
export const MAX_CLIENT_ID_URL = 512;
/** Largest document accepted; the draft suggests authorization servers keep this small (5 KB). */
export const MAX_DOCUMENT_BYTES = 5 * 1024;

/** Whether `clientId` names a metadata document rather than a registered client. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/**
 * Why `clientId` cannot be a client identifier URL, or undefined when it can (draft §3): https;
 * a path; no single- or double-dot path segments; no fragment; no username or password. It must
 * also be written as Grantor would write it (the WHATWG serialisation), so one app has one name.
 */
export function clientIdUrlProblem(clientId: string, settings: Config['clientMetadataDocuments']): string | undefined {
  if (!settings.enabled) return 'client metadata documents are turned off';
  if (clientId.length > MAX_CLIENT_ID_URL) return 'client_id URL is too long';
  if (!/^[\x21-\x7e]+$/.test(clientId)) return 'client_id URL has characters outside printable ASCII';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'client_id is not a URL';
  }
  if (url.protocol !== 'https:') return 'client_id URL must use https';
  if (clientId.includes('#')) return 'client_id URL must not have a fragment';
  const authorityAndPath = clientId.slice('https://'.length);
  const slash = authorityAndPath.indexOf('/');
  const authority = slash < 0 ? authorityAndPath : authorityAndPath.slice(0, slash);
  if (authority.includes('@')) return 'client_id URL must not have a username or password';
  if (slash < 0) return 'client_id URL must have a path';
  const path = authorityAndPath.slice(slash).split('?')[0];
  if (path.split('/').some((seg) => /^(?:\.|%2e){1,2}$/i.test(seg))) return 'client_id URL must not have dot segments';
  if (url.href !== clientId) return 'client_id URL is not in its normal form';
  if (settings.domains && !settings.domains.some((d) => url.hostname === d || url.hostname.endsWith(`.${d}`))) {
    return 'client_id URL is not in a domain this server accepts';
  }
  return undefined;
}

const SHARED_SECRET_FIELDS = ['client_secret', 'client_secret_expires_at'];
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
const NAME_MAX = 200;

export type DocumentCheck = { ok: true; client: ClientRow } | { ok: false; reason: string };

/**
 * Checks a fetched document and makes the client Grantor sees (draft §4). `resources`: every
 * registered resource, for the scopes such a client may have (their dynamicClientScopes).
 */
export function clientFromDocument(clientId: string, fetched: FetchOutcome, resources: ResourceRow[], now: number): DocumentCheck {
  if (!fetched.ok) return fetched;
  const type = (fetched.document.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) return { ok: false, reason: `content type ${type || 'missing'}` };
  let doc: unknown;
  try {
    doc = JSON.parse(fetched.document.body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, reason: 'not a JSON object' };
  const d = doc as Record<string, unknown>;
  // §4.1: the document names itself, by simple string comparison.
  if (d.client_id !== clientId) return { ok: false, reason: 'client_id in the document differs from its URL' };
  // §4.1: no shared secret can exist between the two; a document that offers one is refused.
  if (SHARED_SECRET_FIELDS.some((f) => f in d)) return { ok: false, reason: 'the document holds a client secret' };
  // §4.1: a public client (`none`), or one that proves itself with keys it publishes
  // (`private_key_jwt`, RFC 7523 §2.2) by `jwks_uri` or `jwks` (RFC 7591 §2: one of them, not both).
  const method = d.token_endpoint_auth_method;
  if (method !== 'none' && method !== 'private_key_jwt') return { ok: false, reason: 'token_endpoint_auth_method must be none or private_key_jwt' };
  let keys: { jwks: ClientRow['jwks']; jwksUri: ClientRow['jwksUri'] } = { jwks: null, jwksUri: null };
  if (method === 'private_key_jwt') {
    if ((d.jwks === undefined) === (d.jwks_uri === undefined)) return { ok: false, reason: 'private_key_jwt needs jwks_uri or jwks (one of them)' };
    if (d.jwks_uri !== undefined) {
      if (!JwksUriSchema.safeParse(d.jwks_uri).success) return { ok: false, reason: 'jwks_uri must be an https URL' };
      keys = { jwks: null, jwksUri: d.jwks_uri as string };
    } else {
      const parsed = PublicJwksSchema.safeParse(d.jwks);
      if (!parsed.success) return { ok: false, reason: 'jwks is not a set of public keys' };
      keys = { jwks: parsed.data, jwksUri: null };
    }
  }
  const uris = d.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > 20) return { ok: false, reason: 'redirect_uris must list 1 to 20 URIs' };
  if (!uris.every((u) => typeof u === 'string' && RedirectUriSchema.safeParse(u).success)) return { ok: false, reason: 'a redirect URI is malformed' };
  const grantTypes = d.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grantTypes) || !grantTypes.every((g) => typeof g === 'string' && GRANT_TYPES.has(g)) || !grantTypes.includes('authorization_code')) {
    return { ok: false, reason: 'grant_types must be authorization_code (and refresh_token)' };
  }
  if (d.response_types !== undefined && !(Array.isArray(d.response_types) && d.response_types.length === 1 && d.response_types[0] === 'code')) {
    return { ok: false, reason: 'response_types must be [code]' };
  }
  // What the document asks for (`scope`, RFC 7591 §2) narrows what resources opened; never widens.
  const opened = new Set(resources.flatMap((r) => r.dynamicClientScopes));
  const asked = typeof d.scope === 'string' ? new Set(d.scope.split(' ').filter(Boolean)) : undefined;
  const scopes = [...opened].filter((s) => asked === undefined || asked.has(s));
  const host = new URL(clientId).host;
  return {
    ok: true,
    client: {
      clientId,
      name: displayName(d.client_name) ?? host,
      // A client with keys proves who it is at the token endpoint: a confidential client (RFC 6749 §2.1).
      type: method === 'private_key_jwt' ? 'confidential' : 'public',
      secretHash: null,
      grantTypes: [...new Set(grantTypes as string[])],
      redirectUris: uris as string[],
      scopes,
      disabled: false,
      // RFC 9449 §5.2: a client's metadata may ask that its tokens always be DPoP-bound.
      dpopBoundAccessTokens: d.dpop_bound_access_tokens === true,
      tokenEndpointAuthMethod: method,
      ...keys,
      createdAt: now,
      updatedAt: now,
      source: 'metadata_document',
    },
  };
}

/** A name people will read: a string without control characters, cut to a sane length. */
function displayName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clean = value.replace(/\p{Cc}|\p{Cf}/gu, '').trim();
  return clean ? clean.slice(0, NAME_MAX) : undefined;
}

export interface MetadataDocumentDeps {
  config: Pick<Config, 'clientMetadataDocuments'>;
  clock: Clock;
  /** Fetched documents, by URL (bounded, honouring Cache-Control). */
  documents: DocumentCache;
  /** Fetches one document (src/outbound/fetch-document.ts with Grantor's limits). */
  fetch: (url: string) => Promise<FetchOutcome>;
  /** Told why a document was refused (for the log; never shown to the app). */
  refused?: (clientId: string, reason: string) => void;
}

/**
 * The read cache, with client_ids that are URLs answered from their metadata documents: every
 * reader of clients (the authorization endpoint, client authentication, token acceptance) sees
 * such an app as it sees a registered one. A refused URL, a failed fetch or a bad document is an
 * unknown client (`invalid_client`, or the authorization endpoint's error page).
 */
export function withMetadataDocuments(readCache: ReadCache, deps: MetadataDocumentDeps): ReadCache {
  // A document is checked once per fetch and resource list: both are the same objects until the
  // cache lifetime ends or a resource changes, so a request for a known app re-checks nothing.
  const checked = new WeakMap<FetchOutcome, { resources: ResourceRow[]; check: DocumentCheck }>();
  const check = (clientId: string, fetched: FetchOutcome, resources: ResourceRow[]): DocumentCheck => {
    const held = checked.get(fetched);
    if (held?.resources === resources) return held.check;
    const made = clientFromDocument(clientId, fetched, resources, deps.clock.now());
    checked.set(fetched, { resources, check: made });
    return made;
  };
  const resolve = async (clientId: string): Promise<ClientRow | undefined> => {
    const problem = clientIdUrlProblem(clientId, deps.config.clientMetadataDocuments);
    const refuse = (reason: string) => {
      deps.refused?.(clientId, reason);
      return undefined;
    };
    if (problem) return refuse(problem);
    if (await readCache.clientBlocked(clientId)) return refuse('blocked by an admin');
    const fetched = await deps.documents.get(clientId, deps.fetch);
    const outcome = check(clientId, fetched, await readCache.resources());
    return outcome.ok ? outcome.client : refuse(outcome.reason);
  };
  return {
    ...readCache,
    client: (clientId) => (isMetadataDocumentUrl(clientId) ? resolve(clientId) : readCache.client(clientId)),
  };
}

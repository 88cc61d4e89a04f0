import { OAuthError } from '../errors.js';
import { randomToken } from '../lib/random.js';
import { hashSecret, secretMatches } from '../lib/secret.js';
import type { RateLimits } from '../http/rate-limit.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow } from '../store/tables.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  client: ClientRow;
  method: ClientAuthMethod;
}

export const SUPPORTED_AUTH_METHODS: ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

const MAX_CREDENTIAL = 512;
/** Compared against when there is no stored hash: the hash of a random value nobody knows. */
const UNMATCHABLE_HASH = hashSecret(randomToken(32));
const VSCHAR = /^[\x20-\x7e]+$/;

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3): HTTP Basic or body credentials,
 * never both (§2.3); a public client presents only its client_id. Every failure is
 * `invalid_client` (401); with Basic the answer carries a Basic challenge (§5.2).
 */
export async function authenticateClient(
  deps: { readCache: Pick<ReadCache, 'client'>; rateLimits: Pick<RateLimits, 'client'> },
  authorization: string | undefined,
  form: URLSearchParams,
): Promise<AuthenticatedClient> {
  const basic = authorization ? parseBasic(authorization) : undefined;
  const bodyId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  // §5.2: a client that tried the Authorization header gets 401 with a challenge, even when the
  // header was malformed or of another scheme; Basic is the one scheme offered.
  const fail = (detail: string, description = 'client authentication failed') =>
    new OAuthError('invalid_client', description, {
      detail,
      headers: authorization ? { 'WWW-Authenticate': 'Basic realm="grantor", charset="UTF-8"' } : {},
    });

  if (authorization && !basic) {
    if (/^basic(\s|$)/i.test(authorization)) throw fail('malformed Basic credentials');
    // Another scheme (e.g. a bearer token) is not client authentication.
    throw fail('authorization header is not Basic', 'unsupported client authentication scheme');
  }
  if (basic && bodySecret !== undefined) {
    throw new OAuthError('invalid_request', 'use one client authentication method, not several');
  }
  if (basic && bodyId !== undefined && bodyId !== basic.clientId) {
    throw new OAuthError('invalid_request', 'client_id in the body differs from the authenticated client');
  }

  const clientId = basic?.clientId ?? bodyId;
  const secret = basic?.secret ?? bodySecret;
  const method: ClientAuthMethod = basic ? 'client_secret_basic' : bodySecret !== undefined ? 'client_secret_post' : 'none';
  if (clientId === undefined) throw fail('no client_id');
  if (clientId.length > MAX_CREDENTIAL || (secret && secret.length > MAX_CREDENTIAL)) throw fail('credential too long');
  // RFC 6749 Appendix A.1: client-id = *VSCHAR (%x20-7E); nothing else can name a client.
  if (!VSCHAR.test(clientId)) throw fail('client_id outside VSCHAR');

  const client = await deps.readCache.client(clientId);
  // An unknown client, a disabled one and a wrong secret do the same work (one lookup, usually
  // from memory, and one comparison against a hash) and get the same answer, so neither the
  // time nor the answer tells whether a client_id exists (issue #10 item 6).
  const secretOk = secret !== undefined && secretMatches(secret, client?.secretHash ?? UNMATCHABLE_HASH);
  if (!client) throw fail('unknown client');
  if (client.disabled) throw fail('client disabled');
  if (client.type === 'confidential') {
    if (!secretOk) throw fail('bad secret');
  } else if (secret !== undefined) {
    throw fail('public client presented a secret');
  }
  await deps.rateLimits.client(client.clientId);
  return { client, method };
}

// RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
function parseBasic(header: string): { clientId: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    if (!clientId) return undefined;
    return { clientId, secret };
  } catch {
    return undefined;
  }
}

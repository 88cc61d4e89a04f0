import { OAuthError } from '../errors.js';
import { randomToken } from '../lib/random.js';
import { hashSecret, secretMatches } from '../lib/secret.js';
import type { RateLimits } from '../http/rate-limit.js';
import type { ReadCache } from '../store/read-cache.js';
import type { ClientRow } from '../store/tables.js';
import { AssertionRefused, CLIENT_ASSERTION_TYPE, claimedClientId, MAX_ASSERTION_LENGTH, refuseAfterDecoyCheck, verifyClientAssertion, type ClientAssertionDeps } from './client-assertion.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface AuthenticatedClient {
  client: ClientRow;
  method: ClientAuthMethod;
}

export const SUPPORTED_AUTH_METHODS: ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

export type ClientAuthDeps = ClientAssertionDeps & { readCache: Pick<ReadCache, 'client'>; rateLimits: Pick<RateLimits, 'client'> };

const MAX_CREDENTIAL = 512;
/** Compared against when there is no stored hash: the hash of a random value nobody knows. */
const UNMATCHABLE_HASH = hashSecret(randomToken(32));
const VSCHAR = /^[\x20-\x7e]+$/;

/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
 * HTTP Basic, body credentials, or a signed assertion (private_key_jwt, RFC 7523 §2.2), never two
 * at once (§2.3); a public client presents only its client_id. A client uses the method it
 * registered: a secret client no assertion, a private_key_jwt client no secret. Every failure is
 * `invalid_client` (401); with Basic the answer carries a Basic challenge (§5.2).
 */
export async function authenticateClient(deps: ClientAuthDeps, authorization: string | undefined, form: URLSearchParams): Promise<AuthenticatedClient> {
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
  const assertion = form.has('client_assertion') || form.has('client_assertion_type');
  if ((basic && bodySecret !== undefined) || (assertion && (basic || bodySecret !== undefined))) {
    throw new OAuthError('invalid_request', 'use one client authentication method, not several');
  }
  if (assertion) return authenticateByAssertion(deps, form, fail);
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
    // A private_key_jwt client has no secret hash, so no secret matches (and the work is the same).
    if (!secretOk) throw fail(client.tokenEndpointAuthMethod === 'private_key_jwt' ? 'private_key_jwt client presented no assertion' : 'bad secret');
  } else if (secret !== undefined) {
    throw fail('public client presented a secret');
  }
  await deps.rateLimits.client(client.clientId);
  return { client, method };
}

/**
 * RFC 7523 §2.2: `client_assertion_type` exactly the JWT bearer URN, `client_assertion` one JWT;
 * a `client_id` sent beside it names the same client (RFC 7521 §4.2). The client is found by the
 * assertion's `sub`, then every check of RFC 7523 §3 (client-assertion.ts).
 */
async function authenticateByAssertion(deps: ClientAuthDeps, form: URLSearchParams, fail: (detail: string) => OAuthError): Promise<AuthenticatedClient> {
  const type = form.get('client_assertion_type');
  const assertion = form.get('client_assertion');
  if (type !== CLIENT_ASSERTION_TYPE) throw fail(`client_assertion_type ${type === null ? 'missing' : 'unsupported'}`);
  if (!assertion) throw fail('client_assertion missing');
  if (assertion.length > MAX_ASSERTION_LENGTH) throw fail('client_assertion too long');
  try {
    const clientId = claimedClientId(assertion);
    if (clientId.length > MAX_CREDENTIAL || !VSCHAR.test(clientId)) throw new AssertionRefused('sub is not a client_id');
    const bodyId = form.get('client_id');
    if (bodyId !== null && bodyId !== clientId) throw new AssertionRefused('client_id differs from the assertion\'s sub');
    const client = await deps.readCache.client(clientId);
    // An unknown client, a disabled one and one that uses a secret do a known client's work (one
    // signature check, against a decoy key) and get the same answer as a bad signature, so the
    // time does not tell whether a client_id exists.
    if (!client) return await refuseAfterDecoyCheck(assertion, undefined, 'unknown client');
    if (client.disabled) return await refuseAfterDecoyCheck(assertion, undefined, 'client disabled');
    if (client.tokenEndpointAuthMethod !== 'private_key_jwt') return await refuseAfterDecoyCheck(assertion, undefined, `client authenticates with ${client.tokenEndpointAuthMethod}`);
    await verifyClientAssertion(deps, client, assertion);
    await deps.rateLimits.client(client.clientId);
    return { client, method: 'private_key_jwt' };
  } catch (err) {
    if (err instanceof AssertionRefused) throw fail(`client assertion refused: ${err.message}`);
    throw err;
  }
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

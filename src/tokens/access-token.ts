import { sign } from 'node:crypto';
import { compactVerify, jwtVerify, errors as joseErrors } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import { randomId } from '../lib/random.js';

/**
 * RFC 8693 §4.1: who acts for the subject — the client that exchanged a token for this one; a
 * token exchanged again nests the earlier actor inside (the outermost is the current actor).
 */
export interface Actor {
  sub: string;
  act?: Actor;
}

/** What an access token says, in the words of RFC 9068 §2.2 plus Grantor's `grant_id`. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
  grant_id: string;
  /** draft-ietf-oauth-status-list-20 §6.1: where the grant's status bit is published. */
  status: { status_list: { idx: number; uri: string } };
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to. */
  cnf?: { jkt: string };
  /** RFC 8693 §4.1: present on tokens issued by token exchange (delegation). */
  act?: Actor;
}

export interface MintAccessTokenInput {
  issuer: string;
  subject: string;
  audience: string;
  clientId: string;
  scope: string;
  grantId: string;
  /** The grant's status list index and the list's URI. */
  statusIndex: number;
  statusListUri: string;
  issuedAt: number;
  ttl: number;
  /** RFC 9449: the JWK SHA-256 thumbprint of the DPoP proof key, when the token is bound. */
  dpopJkt?: string;
  /** RFC 8693 §4.1: the acting party, for a token issued by token exchange. */
  actor?: Actor;
}

/** The encoded protected header `{"alg":"RS256","typ":"at+jwt","kid":…}` (RFC 9068 §2.1). */
function protectedHeader(kid: string): string {
  return Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid })).toString('base64url');
}

/** The claims of an RFC 9068 access token (§2.2), with a fresh `jti`. */
export function accessTokenClaims(input: MintAccessTokenInput): AccessTokenClaims {
  return {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    exp: input.issuedAt + input.ttl,
    iat: input.issuedAt,
    jti: randomId(),
    client_id: input.clientId,
    scope: input.scope,
    grant_id: input.grantId,
    status: { status_list: { idx: input.statusIndex, uri: input.statusListUri } },
    ...(input.dpopJkt ? { cnf: { jkt: input.dpopJkt } } : {}),
    ...(input.actor ? { act: input.actor } : {}),
  };
}

/** Signs an RFC 9068 access token with the active key: header `typ: at+jwt`, `alg: RS256`, `kid`. */
export async function mintAccessToken(keyRing: KeyRing, input: MintAccessTokenInput): Promise<{ token: string; claims: AccessTokenClaims; kid: string }> {
  const claims = accessTokenClaims(input);
  return { ...(await signAccessToken(keyRing, claims)), claims };
}

/**
 * Signs access token claims, with the key `kid` when it is still in the ring, else the active key.
 * RS256 (RSASSA-PKCS1-v1_5) is deterministic: the same claims and key give the same token, which
 * is how a repeated refresh is answered identically without storing the token.
 */
export async function signAccessToken(keyRing: KeyRing, claims: AccessTokenClaims, kid?: string): Promise<{ token: string; kid: string }> {
  const key = (kid && keyRing.findKey(kid)) || keyRing.signingKey();
  const signingInput = `${protectedHeader(key.kid)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  // RFC 7515 §5.1 by hand: node:crypto's sign() with a callback runs RSA on the libuv thread pool,
  // keeping the event loop free at a fraction of the main-thread cost of a WebCrypto call.
  const signature = await new Promise<Buffer>((resolve, reject) =>
    sign('sha256', Buffer.from(signingInput), key.keyObject, (err, sig) => (err ? reject(err) : resolve(sig))),
  );
  return { token: `${signingInput}.${signature.toString('base64url')}`, kid: key.kid };
}

export type VerifyResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: string };

/**
 * Verifies the signature and claims of one of Grantor's own access tokens against its published
 * keys (RFC 9068 §4): RS256 only, `typ` at+jwt, exact `iss`, `aud` containing `audience` (when
 * given), not past `exp` (no leeway: Grantor reads its own tokens by its own clock, and
 * introspection calls a token expired from its `exp` on). Says nothing of the token's grant or
 * client: Grantor accepts its tokens only through acceptAccessToken (src/oauth/accept-access-token.ts).
 */
export async function verifyAccessToken(
  keyRing: KeyRing,
  token: string,
  opts: { issuer: string; audience?: string; now: number },
): Promise<VerifyResult> {
  try {
    const jwks = keyRing.verificationKeys();
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ['RS256'],
      typ: 'at+jwt',
      issuer: opts.issuer,
      audience: opts.audience,
      currentDate: new Date(opts.now * 1000),
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
    });
    return { ok: true, claims: payload as unknown as AccessTokenClaims };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return { ok: false, reason: (err as Error).message };
    throw err;
  }
}

/**
 * Reads one of Grantor's own access tokens whatever its age: signature by a published key, RS256,
 * `typ` at+jwt and exact `iss` are checked; expiry is reported, not enforced (revocation and
 * introspection must still recognise an expired token).
 */
export async function readAccessToken(
  keyRing: KeyRing,
  token: string,
  opts: { issuer: string; now: number },
): Promise<{ claims: AccessTokenClaims; expired: boolean } | undefined> {
  if (token.length > 8192 || token.split('.').length !== 3) return undefined;
  try {
    const jwks = keyRing.verificationKeys();
    const { payload, protectedHeader } = await compactVerify(token, jwks, { algorithms: ['RS256'] });
    if (protectedHeader.typ !== 'at+jwt') return undefined;
    const claims = JSON.parse(new TextDecoder().decode(payload)) as AccessTokenClaims;
    if (claims.iss !== opts.issuer || typeof claims.exp !== 'number' || typeof claims.grant_id !== 'string' || typeof claims.client_id !== 'string') return undefined;
    return { claims, expired: claims.exp <= opts.now };
  } catch {
    return undefined;
  }
}

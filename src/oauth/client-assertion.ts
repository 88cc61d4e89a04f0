/**
 * private_key_jwt client authentication (RFC 7523 §2.2, §3; draft-ietf-oauth-rfc7523bis): the
 * client proves itself with a JWT it signed with a key it registered. Every check of RFC 7523 §3
 * is made here; the caller turns a refusal into `invalid_client`.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { CLIENT_ASSERTION_ALGORITHMS, publicJwk } from '../registry/schemas.js';
import type { Db } from '../store/db.js';
import type { ClientRow, PublicJwks } from '../store/tables.js';
import { recordUsedJti } from '../store/used-jtis.js';
import type { ClientKeys } from './client-keys.js';

/** RFC 7523 §2.2: the one `client_assertion_type` of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The furthest ahead an assertion's `exp` may be (RFC 7523 §3 item 4 lets the server limit it; RFC 9700 §2.5 wants it short). */
export const MAX_ASSERTION_LIFETIME = 300;
/** Seconds of clock difference tolerated on `exp`, `nbf` and `iat`. */
export const CLOCK_SKEW = 30;
/** The longest assertion read. */
export const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI = 256;

/** draft-ietf-oauth-rfc7523bis §4: the explicit type; a JWT typed as anything else (`at+jwt`, `dpop+jwt`) is not a client assertion. */
const ACCEPTED_TYP = new Set(['client-authentication+jwt', 'jwt']);

export type ClientAssertionDeps = { db: Db; clock: Clock; config: Pick<Config, 'issuer'>; clientKeys: ClientKeys };

/** Why an assertion was refused: for the log only, the client sees `invalid_client`. */
export class AssertionRefused extends Error {}

/**
 * The client an assertion claims to come from (its `sub`, RFC 7523 §3 item 2), read before the
 * signature is checked only to find the client's keys. Throws AssertionRefused.
 */
export function claimedClientId(assertion: string): string {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw new AssertionRefused('not a JWT');
  }
  if (typeof claims.sub !== 'string' || !claims.sub) throw new AssertionRefused('no sub');
  return claims.sub;
}

/**
 * RFC 7523 §3 for `client`'s assertion: signed (never `none` nor a MAC) by a key the client
 * registered; `iss` = `sub` = client_id (§3 items 1, 2); `aud` the issuer identifier, one value
 * (rfc7523bis §4: not the token endpoint URL, which let one server replay another's assertions);
 * `exp` present and at most MAX_ASSERTION_LIFETIME ahead (§3 item 4); `nbf` and `iat` not in the
 * future (§3 items 5, 6); `jti` present and used once across every instance while the assertion
 * could be accepted (§3 item 7, decided by the database). Throws AssertionRefused.
 */
export async function verifyClientAssertion(deps: ClientAssertionDeps, client: ClientRow, assertion: string): Promise<void> {
  const header = checkedHeader(assertion);
  const now = deps.clock.now();
  const verifyWith = (jwks: PublicJwks) => verifySignedBy(assertion, jwks, client.clientId, now);
  let claims: JWTPayload;
  try {
    claims = (await verifyWith(await keysOrRefuse(deps.clientKeys, client))).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSNoMatchingKey)) throw refusal(err);
    if (!client.jwksUri) return refuseAfterDecoyCheck(assertion, header, refusal(err).message);
    // The client may have rotated its keys since the set was cached: look once more (rate-limited).
    try {
      claims = (await verifyWith(await keysOrRefuse(deps.clientKeys, client, true))).payload;
    } catch (again) {
      // Still no key for it, or no second look (the refetch is rate-limited): the decoy's work, as above.
      if (again instanceof errors.JWKSNoMatchingKey || again instanceof AssertionRefused) return refuseAfterDecoyCheck(assertion, header, refusal(again).message);
      throw refusal(again);
    }
  }

  if (claims.aud !== deps.config.issuer) throw new AssertionRefused('aud is not the issuer identifier');
  const exp = claims.exp as number;
  if (exp > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW) throw new AssertionRefused('exp too far ahead');
  if (claims.iat !== undefined && claims.iat > now + CLOCK_SKEW) throw new AssertionRefused('iat in the future');
  const jti = claims.jti;
  if (typeof jti !== 'string' || !jti || jti.length > MAX_JTI) throw new AssertionRefused('jti missing or too long');
  // Kept until the assertion could no longer be accepted (exp plus the tolerated skew).
  if (!(await recordUsedJti(deps.db, ['client_assertion', client.clientId, jti], exp + CLOCK_SKEW))) {
    throw new AssertionRefused('jti already used');
  }
}

/**
 * Refuses an assertion of an unknown, disabled or secret-using client (client-auth.ts), or one
 * whose key the client never registered (an unknown `kid`, another key type), after the work of a
 * known client's assertion with a bad signature: the header checks, then one signature check
 * against a decoy key of the assertion's algorithm. Without it such an assertion is answered
 * sooner than a bad signature, and the time tells which client_ids exist (the client_secret path
 * compares against a hash nobody knows for the same reason). Always throws AssertionRefused with
 * `reason` (for the log; the client sees the same `invalid_client` as for a bad signature).
 */
export async function refuseAfterDecoyCheck(assertion: string, header: AssertionHeader | undefined, reason: string): Promise<never> {
  await checkAgainstDecoy(assertion, header ?? checkedHeader(assertion));
  throw new AssertionRefused(reason);
}

/**
 * Checks the assertion's signature with a decoy key of its algorithm, as a registered key would be
 * checked. Answers why jose refused it: a signature check that failed, as no one holds the decoy's
 * private key (`ERR_JWS_SIGNATURE_VERIFICATION_FAILED`; exported for its test).
 */
export async function checkAgainstDecoy(assertion: string, header: AssertionHeader): Promise<string> {
  try {
    await verifySignedBy(assertion, { keys: [await decoyJwk(header)] }, '', 0);
    return 'accepted';
  } catch (err) {
    return (err as { code?: string })?.code ?? String(err);
  }
}

export type AssertionHeader = { alg: (typeof CLIENT_ASSERTION_ALGORITHMS)[number]; kid?: string };

/** The header checks made before any key is looked at: an allowed signature algorithm and, if typed, a client assertion's type. */
export function checkedHeader(assertion: string): AssertionHeader {
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw new AssertionRefused('malformed header');
  }
  if (typeof header.alg !== 'string' || !(CLIENT_ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw new AssertionRefused(`alg ${String(header.alg)} not allowed`);
  }
  if (header.typ !== undefined && !ACCEPTED_TYP.has(String(header.typ).toLowerCase().replace(/^application\//, ''))) {
    throw new AssertionRefused(`typ ${String(header.typ)} is not a client assertion`);
  }
  return { alg: header.alg as AssertionHeader['alg'], kid: typeof header.kid === 'string' ? header.kid : undefined };
}

/** RFC 7523 §3's signature and claim checks by jose, with a key of `jwks` (unusable keys skipped). */
function verifySignedBy(assertion: string, jwks: PublicJwks, clientId: string, now: number) {
  return jwtVerify(assertion, createLocalJWKSet({ keys: jwks.keys.filter((k) => publicJwk.safeParse(k).success) as never[] }), {
    algorithms: [...CLIENT_ASSERTION_ALGORITHMS],
    issuer: clientId,
    subject: clientId,
    requiredClaims: ['exp', 'jti'],
    currentDate: new Date(now * 1000),
    clockTolerance: CLOCK_SKEW,
  });
}

/**
 * Decoy public keys, one per algorithm, each made on first use and kept for the life of the
 * process (RSA keys of 2048 bits, the size clients register most). The decoy takes the
 * assertion's `kid`, so the key set matches it as a registered key would.
 */
const decoys = new Map<string, Promise<JWK>>();
async function decoyJwk(header: AssertionHeader): Promise<JWK> {
  let made = decoys.get(header.alg);
  if (!made) {
    made = generateKeyPair(header.alg, { extractable: true }).then(({ publicKey }) => exportJWK(publicKey));
    decoys.set(header.alg, made);
  }
  return { ...(await made), alg: header.alg, use: 'sig', ...(header.kid === undefined ? {} : { kid: header.kid }) };
}

async function keysOrRefuse(keys: ClientKeys, client: ClientRow, refetch = false): Promise<PublicJwks> {
  const outcome = await keys.keysOf(client, { refetch });
  if (!outcome.ok) throw new AssertionRefused(outcome.reason);
  return outcome.jwks;
}

/** Whatever jose makes of a hostile assertion or a hostile key set is the client's failure, never a 500. */
function refusal(err: unknown): AssertionRefused {
  if (err instanceof AssertionRefused) return err;
  if (err instanceof errors.JOSEError) return new AssertionRefused(`${err.code}: ${err.message}`);
  return new AssertionRefused(`unusable key or assertion: ${(err as Error)?.message}`);
}

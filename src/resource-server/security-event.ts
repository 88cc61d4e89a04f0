import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ResourceServerError } from './errors.js';

/** CAEP 1.0 §3.1: the session-revoked event; Grantor sends it when a grant is revoked. */
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
/** SSF 1.0 §8.1.4.1: the verification event, answering a receiver's verification request. */
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** Largest SET accepted, in characters (Grantor's are well under 2 KB). */
export const MAX_SET_LENGTH = 16 * 1024;

/**
 * RFC 8935 §2.4 (also the `err` of RFC 8936 §2.4 `setErrs`): why a SET was refused.
 * `invalid_request`: not a SET, or its event does not conform; `invalid_key`: signature, key or
 * algorithm not acceptable; `invalid_issuer` / `invalid_audience`: not from our issuer, not for us;
 * `authentication_failed`: (push) the request's Authorization is not the stream's;
 * `access_denied`: (push) this receiver takes no pushed SETs.
 */
export type SetErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied';

/** A refused SET: reported to the transmitter (400 / setErrs) and never applied. */
export class SetError extends Error {
  readonly err: SetErrorCode;
  constructor(err: SetErrorCode, description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = 'SetError';
    this.err = err;
  }
}

/** A SET that passed validation: its one event and subject. */
export interface SecurityEvent {
  jti: string;
  iat: number;
  /** The event type URI (the one member of `events`). */
  type: string;
  /** The event's payload. */
  event: Record<string, unknown>;
  /** SSF 1.0 §3: the top-level subject, when the SET carries one. */
  subId?: { format?: unknown; id?: unknown; [member: string]: unknown };
}

export interface SetCheck {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Current time, epoch seconds. */
  now: number;
  /** Seconds an `iat` may lie in the future (clock skew). */
  clockTolerance: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a Security Event Token (RFC 8417 §2, §4; SSF 1.0 §4): a JWS of `typ` secevent+jwt
 * (§2.3: so it is never taken for an access or ID token, nor one of them for it) signed RS256 by a
 * key of the issuer's JWKS, `iss` exactly the issuer, `aud` containing this API, `iat` present and
 * not in the future, a `jti`, and `events` with exactly one member (SSF 1.0 §4.1.8: one event per
 * SET). Throws SetError, or ResourceServerError `status_unavailable` when the issuer's keys cannot
 * be had or hold no key of its `kid` yet (the SET may be fine: it must not be refused for it, only
 * taken again later).
 */
export async function checkSecurityEvent(jws: string, check: SetCheck): Promise<SecurityEvent> {
  if (jws.length > MAX_SET_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws)) {
    throw new SetError('invalid_request', 'not one compact JWS');
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jws, check.keys, {
      algorithms: ['RS256'],
      typ: 'secevent+jwt',
      issuer: check.issuer,
      audience: check.audience,

      currentDate: new Date(check.now * 1000),
      clockTolerance: check.clockTolerance,
      requiredClaims: ['iss', 'aud', 'iat', 'jti'],
    }));
  } catch (err) {
    if (err instanceof ResourceServerError) throw err;
    if (err instanceof joseErrors.JWKSTimeout) throw new ResourceServerError('status_unavailable', 'the issuer’s keys could not be fetched', { cause: err });
    // A kid the cached JWKS lacks may be the issuer's next key, published after the last fetch (and
    // refetched only after a cooldown): not a bad SET yet; the caller takes it again later.
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw new ResourceServerError('status_unavailable', 'no key of the issuer’s JWKS matches the SET’s kid', { cause: err });
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      const code = err.claim === 'iss' ? 'invalid_issuer' : err.claim === 'aud' ? 'invalid_audience' : 'invalid_request';
      throw new SetError(code, err.message, { cause: err });
    }
    if (
      err instanceof joseErrors.JWSSignatureVerificationFailed ||
      err instanceof joseErrors.JWKSMultipleMatchingKeys ||
      err instanceof joseErrors.JOSEAlgNotAllowed
    ) {
      throw new SetError('invalid_key', err.message, { cause: err });
    }
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) throw new SetError('invalid_request', (err as Error).message, { cause: err });
    throw err;
  }
  // RFC 8417 §2.2: iat is REQUIRED; one from the future is not a real event yet.
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new SetError('invalid_request', 'iat missing');
  if (iat > check.now + check.clockTolerance) throw new SetError('invalid_request', 'iat in the future');
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new SetError('invalid_request', 'jti missing or too long');
  const events = payload.events;
  if (!isObject(events)) throw new SetError('invalid_request', 'events missing');
  const types = Object.keys(events);
  if (types.length !== 1) throw new SetError('invalid_request', 'a SET carries exactly one event');
  const event = events[types[0]];
  if (!isObject(event)) throw new SetError('invalid_request', 'the event is not an object');
  const subId = payload.sub_id;
  if (subId !== undefined && !isObject(subId)) throw new SetError('invalid_request', 'sub_id is not an object');
  return { jti, iat, type: types[0], event, subId: subId as SecurityEvent['subId'] };
}

/** The grant id a session-revoked event names (CAEP 1.0 §3.1 with SSF 1.0 §3 `sub_id`, format opaque). */
export function revokedGrantOf(event: SecurityEvent): string {
  const sub = event.subId;
  if (!sub || sub.format !== 'opaque' || typeof sub.id !== 'string' || sub.id.length === 0 || sub.id.length > 256) {
    throw new SetError('invalid_request', 'session-revoked without an opaque sub_id');
  }
  return sub.id;
}

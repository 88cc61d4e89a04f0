import { SignJWT } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import type { EventFacts } from '../store/ssf-events.js';

/** CAEP 1.0 §3.1 Session Revoked: Grantor sends one per revoked grant. */
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
/** SSF 1.0 §8.1.4.1 Verification event. */
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
/** SSF 1.0 §8.1.1: the event types this transmitter can send (`events_supported`). */
export const EVENTS_SUPPORTED = [SESSION_REVOKED, VERIFICATION];

/** RFC 8935 push and RFC 8936 poll delivery (SSF 1.0 §6.1). */
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';

/** RFC 8417 §2.3: the explicit type of a Security Event Token. */
export const SET_TYPE = 'secevent+jwt';

/**
 * CAEP 1.0 §2 `initiating_entity`, from who revoked (src/revocation/revoke-grant.ts `Revoker.by`):
 * an administrator (admin API or CLI) → `admin`; the person (connected-apps page) or the client
 * itself (RFC 7009) → `user`; Grantor's own protections (a replayed code or refresh token) →
 * `system`; anything else (a client or person deleted) → `policy`.
 */
export function initiatingEntity(by: string): 'admin' | 'user' | 'policy' | 'system' {
  if (by === 'cli' || by.startsWith('admin')) return 'admin';
  if (by.startsWith('user:') || by.startsWith('client:')) return 'user';
  if (by === 'system') return 'system';
  return 'policy';
}

/**
 * The claims of a SET (RFC 8417 §2.2): `iss`, `iat` (now: the SET is made at delivery), `jti`,
 * `aud` (the stream's: a string when one), `sub_id` (SSF 1.0 §3, RFC 9493 `opaque`) and exactly
 * one event. A revoked grant's subject is the grant id — the `grant_id` claim of every access
 * token issued under it — with `client_id` and `resource` as Grantor's extension members; a
 * verification event's subject is the stream (SSF 1.0 §8.1.4.1).
 */
export function setClaims(facts: EventFacts, at: { issuer: string; aud: string[]; jti: string; now: number }): Record<string, unknown> {
  const base = { iss: at.issuer, iat: at.now, jti: at.jti, aud: at.aud.length === 1 ? at.aud[0] : at.aud };
  if (facts.type === 'verification') {
    return { ...base, sub_id: { format: 'opaque', id: facts.streamId }, events: { [VERIFICATION]: facts.state !== undefined ? { state: facts.state } : {} } };
  }
  return {
    ...base,
    sub_id: { format: 'opaque', id: facts.grantId },
    events: {
      [SESSION_REVOKED]: {
        event_timestamp: facts.at,
        initiating_entity: initiatingEntity(facts.revokedBy),
        reason_admin: { en: facts.reason },
        client_id: facts.clientId,
        resource: facts.resource,
      },
    },
  };
}

/** Signs a SET with Grantor's active key (the JWKS of its access tokens): header `alg: RS256`, `typ: secevent+jwt`, `kid`. */
export async function signSet(keyRing: KeyRing, claims: Record<string, unknown>): Promise<string> {
  const key = keyRing.signingKey();
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: SET_TYPE, kid: key.kid }).sign(key.privateKey);
}

import type { KeyRing } from '../keys/key-ring.js';
import type { Db } from '../store/db.js';
import { findRefreshToken, type RefreshTokenRow } from '../store/refresh-tokens.js';
import { readAccessToken, type AccessTokenClaims } from '../tokens/access-token.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';

/** A token presented to revocation or introspection, recognised whatever `token_type_hint` says. */
export type PresentedToken =
  | { kind: 'refresh'; row: RefreshTokenRow }
  | { kind: 'access'; claims: AccessTokenClaims; expired: boolean };

/**
 * One of Grantor's refresh tokens (by its hash) or access tokens (by signature and issuer), or
 * undefined for anything else. RFC 7009 §2.1 and RFC 7662 §2.1 let the server search every type.
 */
export async function identifyToken(deps: { db: Db; keyRing: KeyRing }, token: string, opts: { issuer: string; now: number }): Promise<PresentedToken | undefined> {
  if (token.length <= 512) {
    const row = await findRefreshToken(deps.db, hashRefreshToken(token));
    if (row) return { kind: 'refresh', row };
  }
  const read = await readAccessToken(deps.keyRing, token, opts);
  return read ? { kind: 'access', ...read } : undefined;
}

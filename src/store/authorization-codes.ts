import type { Knex } from 'knex';
import { narrowGrantScope, prefixedGrant, prefixedGrantColumns, touchGrants } from './grants.js';
import { rawTransaction } from './raw-sql.js';
import type { GrantRow } from './tables.js';

export interface AuthorizationCodeRow {
  codeHash: string;
  clientId: string;
  userId: string;
  grantId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  codeChallenge: string | null;
  /** RFC 9449 §10: the DPoP key thumbprint the authorization request named (`dpop_jkt`). */
  dpopJkt: string | null;
  scope: string;
  resource: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export async function insertCode(db: Knex, c: AuthorizationCodeRow): Promise<void> {
  await db('authorization_codes').insert({
    code_hash: c.codeHash,
    client_id: c.clientId,
    user_id: c.userId,
    grant_id: c.grantId,
    redirect_uri: c.redirectUri,
    redirect_uri_sent: c.redirectUriSent,
    code_challenge: c.codeChallenge,
    dpop_jkt: c.dpopJkt,
    scope: c.scope,
    resource: c.resource,
    created_at: c.createdAt,
    expires_at: c.expiresAt,
    used_at: null,
  });
}

/**
 * A code with its grant and whether its person may still sign in (placeholder: the code's hash):
 * the authorization_code grant's one read (store/hot-reads.ts), through the driver like the
 * refresh grant's. The grant and the person are LEFT JOINed: a code whose grant or person is gone
 * is still read, and refused for that.
 */
export const CODE_WITH_GRANT = `SELECT authorization_codes.*, ${prefixedGrantColumns('grants')}, users.disabled AS u_disabled, users.id AS u_id
FROM authorization_codes LEFT JOIN grants ON grants.id = authorization_codes.grant_id LEFT JOIN users ON users.id = authorization_codes.user_id
WHERE authorization_codes.code_hash = ?`;

/** An authorization code, its grant, and whether its person exists and is enabled. */
export interface CodeWithGrant {
  code: AuthorizationCodeRow;
  grant: GrantRow | undefined;
  userActive: boolean;
}

/** A row of CODE_WITH_GRANT, typed. */
export function codeWithGrant(r: Record<string, any>): CodeWithGrant {
  return {
    code: {
      codeHash: r.code_hash,
      clientId: r.client_id,
      userId: r.user_id,
      grantId: r.grant_id,
      redirectUri: r.redirect_uri,
      redirectUriSent: Boolean(r.redirect_uri_sent),
      codeChallenge: r.code_challenge,
      dpopJkt: r.dpop_jkt ?? null,
      scope: r.scope,
      resource: r.resource,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
      usedAt: r.used_at === null ? null : Number(r.used_at),
    },
    grant: prefixedGrant(r),
    userActive: r.u_id !== null && r.u_id !== undefined && !r.u_disabled,
  };
}

/** What redeeming a code writes beside spending it. */
export interface Redemption {
  codeHash: string;
  at: number;
  grantId: string;
  /** The refresh token to store, when the client gets one. */
  refreshToken?: { id: string; tokenHash: string; clientId: string; scope: string; expiresAt: number; dpopJkt: string | null };
  /** Narrow the grant's scope from → to (issue #10), when they differ. */
  narrowGrant?: { from: string; to: string };
}

/**
 * Spends a code, single use decided by the database (of two redemptions exactly one gets true),
 * and in the same transaction stores the refresh token, narrows and touches the grant. Through the
 * driver (raw-sql.ts), not knex: knex's transaction cost more CPU than its statements.
 */
export async function redeemCode(db: Knex, r: Redemption): Promise<boolean> {
  return rawTransaction(db, async (sql) => {
    const spent = await sql.all('UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL RETURNING code_hash', [r.at, r.codeHash]);
    if (spent.length === 0) return false;
    const t = r.refreshToken;
    if (t) {
      await sql.all('INSERT INTO refresh_tokens (id, token_hash, grant_id, client_id, scope, created_at, expires_at, dpop_jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        t.id,
        t.tokenHash,
        r.grantId,
        t.clientId,
        t.scope,
        r.at,
        t.expiresAt,
        t.dpopJkt,
      ]);
    }
    if (r.narrowGrant) await narrowGrantScope(sql, r.grantId, r.narrowGrant.from, r.narrowGrant.to);
    await touchGrants(sql, [r.grantId], r.at);
    return true;
  });
}

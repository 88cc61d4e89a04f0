import type { Knex } from 'knex';
import type { GrantRow } from './tables.js';

export interface RefreshTokenRow {
  id: string;
  tokenHash: string;
  grantId: string;
  clientId: string;
  scope: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  successorId: string | null;
  /** JSON of the access token answered when this token was rotated (claims and kid). */
  successorAccess: string | null;
  /** RFC 9449 §5: the JWK thumbprint a public client's refresh token is bound to (null: unbound). */
  dpopJkt: string | null;
}

const toRow = (r: Record<string, any>): RefreshTokenRow => ({
  id: r.id,
  tokenHash: r.token_hash,
  grantId: r.grant_id,
  clientId: r.client_id,
  scope: r.scope,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  usedAt: r.used_at === null ? null : Number(r.used_at),
  successorId: r.successor_id,
  successorAccess: r.successor_access,
  dpopJkt: r.dpop_jkt ?? null,
});

export async function insertRefreshToken(db: Knex, t: Omit<RefreshTokenRow, 'usedAt' | 'successorId' | 'successorAccess' | 'dpopJkt'> & { dpopJkt?: string | null }): Promise<void> {
  await db('refresh_tokens').insert({
    id: t.id,
    token_hash: t.tokenHash,
    grant_id: t.grantId,
    client_id: t.clientId,
    scope: t.scope,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    dpop_jkt: t.dpopJkt ?? null,
  });
}

export async function findRefreshToken(db: Knex, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  const r = await db('refresh_tokens').where({ token_hash: tokenHash }).first();
  return r ? toRow(r) : undefined;
}

const GRANT_COLUMNS = `user_id AS g_user_id, resource AS g_resource, scope AS g_scope, kind AS g_kind, status_index AS g_status_index,
  created_at AS g_created_at, last_used_at AS g_last_used_at, revoked_at AS g_revoked_at, expires_at AS g_expires_at`;
/** A refresh token with its grant (placeholder: the token's hash): the refresh grant's read (store/hot-reads.ts). */
export const TOKEN_WITH_GRANT = `SELECT refresh_tokens.*, ${GRANT_COLUMNS.replace(/(\w+) AS/g, 'grants.$1 AS')}
FROM refresh_tokens JOIN grants ON grants.id = refresh_tokens.grant_id WHERE refresh_tokens.token_hash = ?`;
/**
 * On PostgreSQL, several at once (placeholder: an array of hashes). The grant is read per token by
 * its primary key (a LATERAL subquery that OFFSET 0 keeps from being merged into a join), so the
 * tokens drive the read through their unique index whatever the statistics say: on tables never
 * analyzed yet (a new database, its first minute) the planner would scan both instead.
 */
export const TOKENS_WITH_GRANTS_PG = `SELECT refresh_tokens.*, g.* FROM refresh_tokens
CROSS JOIN LATERAL (SELECT ${GRANT_COLUMNS} FROM grants WHERE grants.id = refresh_tokens.grant_id OFFSET 0) AS g
WHERE refresh_tokens.token_hash = ANY(CAST(? AS TEXT[]))`;

/** A refresh token with its grant. */
export interface RefreshTokenWithGrant {
  token: RefreshTokenRow;
  grant: GrantRow;
}

/** A row of TOKEN_WITH_GRANT or TOKENS_WITH_GRANTS_PG, typed. */
export function tokenWithGrant(r: Record<string, any>): RefreshTokenWithGrant {
  const num = (v: unknown) => (v === null ? null : Number(v));
  return {
    token: toRow(r),
    grant: {
      id: r.grant_id,
      clientId: r.client_id,
      userId: r.g_user_id,
      resource: r.g_resource,
      scope: r.g_scope,
      kind: r.g_kind,
      statusIndex: Number(r.g_status_index),
      createdAt: Number(r.g_created_at),
      lastUsedAt: num(r.g_last_used_at),
      revokedAt: num(r.g_revoked_at),
      expiresAt: num(r.g_expires_at),
    },
  };
}

export async function findRefreshTokenById(db: Knex, id: string): Promise<RefreshTokenRow | undefined> {
  const r = await db('refresh_tokens').where({ id }).first();
  return r ? toRow(r) : undefined;
}

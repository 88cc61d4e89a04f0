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

/** Refresh tokens with their grants, the tokens named by hash: the refresh grant's read (store/hot-reads.ts). */
const TOKENS_WITH_GRANTS_WHERE_HASH = `SELECT refresh_tokens.*, grants.user_id AS g_user_id, grants.resource AS g_resource, grants.scope AS g_scope,
  grants.kind AS g_kind, grants.status_index AS g_status_index, grants.created_at AS g_created_at,
  grants.last_used_at AS g_last_used_at, grants.revoked_at AS g_revoked_at, grants.expires_at AS g_expires_at
FROM refresh_tokens JOIN grants ON grants.id = refresh_tokens.grant_id WHERE refresh_tokens.token_hash`;
/** One refresh token with its grant (placeholder: the token's hash). */
export const TOKEN_WITH_GRANT = `${TOKENS_WITH_GRANTS_WHERE_HASH} = ?`;
/** On PostgreSQL, several at once (placeholder: an array of hashes). */
export const TOKENS_WITH_GRANTS_PG = `${TOKENS_WITH_GRANTS_WHERE_HASH} = ANY(CAST(? AS TEXT[]))`;

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

import type { Knex } from 'knex';
import { prefixedGrant, prefixedGrantColumns } from './grants.js';
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

export async function findRefreshToken(db: Knex, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  const r = await db('refresh_tokens').where({ token_hash: tokenHash }).first();
  return r ? toRow(r) : undefined;
}

/**
 * On SQLite, `count` refresh tokens with their grants (placeholders: the tokens' hashes), the refresh
 * grant's read (store/hot-reads.ts); each token found through its unique index. One text per count,
 * made once.
 */
export function tokensWithGrantsSqlite(count: number): string {
  return (sqliteReadTexts[count] ??= `SELECT refresh_tokens.*, ${prefixedGrantColumns('grants')}
FROM refresh_tokens JOIN grants ON grants.id = refresh_tokens.grant_id WHERE refresh_tokens.token_hash IN (${Array(count).fill('?').join(', ')})`);
}
const sqliteReadTexts: string[] = [];
/**
 * On PostgreSQL, several at once (placeholder: an array of hashes). The grant is read per token by
 * its primary key (a LATERAL subquery that OFFSET 0 keeps from being merged into a join), so the
 * tokens drive the read through their unique index whatever the statistics say: on tables never
 * analyzed yet (a new database, its first minute) the planner would scan both instead.
 */
export const TOKENS_WITH_GRANTS_PG = `SELECT refresh_tokens.*, g.* FROM refresh_tokens
CROSS JOIN LATERAL (SELECT ${prefixedGrantColumns('grants')} FROM grants WHERE grants.id = refresh_tokens.grant_id OFFSET 0) AS g
WHERE refresh_tokens.token_hash = ANY(CAST(? AS TEXT[]))`;

/** A refresh token with its grant. */
export interface RefreshTokenWithGrant {
  token: RefreshTokenRow;
  grant: GrantRow;
}

/** A row of tokensWithGrantsSqlite() or TOKENS_WITH_GRANTS_PG, typed. */
export function tokenWithGrant(r: Record<string, any>): RefreshTokenWithGrant {
  const grant = prefixedGrant(r);
  if (!grant) throw new Error('a refresh token read without its grant');
  return { token: toRow(r), grant };
}

export async function findRefreshTokenById(db: Knex, id: string): Promise<RefreshTokenRow | undefined> {
  const r = await db('refresh_tokens').where({ id }).first();
  return r ? toRow(r) : undefined;
}

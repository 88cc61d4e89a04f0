import type { Knex } from 'knex';

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
});

export async function insertRefreshToken(db: Knex, t: Omit<RefreshTokenRow, 'usedAt' | 'successorId' | 'successorAccess'>): Promise<void> {
  await db('refresh_tokens').insert({
    id: t.id,
    token_hash: t.tokenHash,
    grant_id: t.grantId,
    client_id: t.clientId,
    scope: t.scope,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
  });
}

export async function findRefreshToken(db: Knex, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  const r = await db('refresh_tokens').where({ token_hash: tokenHash }).first();
  return r ? toRow(r) : undefined;
}

export async function findRefreshTokenById(db: Knex, id: string): Promise<RefreshTokenRow | undefined> {
  const r = await db('refresh_tokens').where({ id }).first();
  return r ? toRow(r) : undefined;
}

/**
 * Rotation, decided by the database: the conditional UPDATE marks the token used and names its
 * successor; of two concurrent refreshes exactly one gets true.
 */
export async function markRotated(db: Knex, id: string, at: number, successorId: string, successorAccess: string): Promise<boolean> {
  const n = await db('refresh_tokens').where({ id }).whereNull('used_at').update({ used_at: at, successor_id: successorId, successor_access: successorAccess });
  return n === 1;
}

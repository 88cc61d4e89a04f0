import type { Knex } from 'knex';
import { paginate } from './paginate.js';
import type { Page, RegistrationTokenRow } from './tables.js';

interface RawToken {
  id: string;
  token_hash: string;
  description: string;
  created_at: number | string;
  expires_at: number | string | null;
  max_uses: number | null;
  uses: number;
  revoked_at: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const toRow = (r: RawToken): RegistrationTokenRow => ({
  id: r.id,
  tokenHash: r.token_hash,
  description: r.description,
  createdAt: Number(r.created_at),
  expiresAt: num(r.expires_at),
  maxUses: r.max_uses === null ? null : Number(r.max_uses),
  uses: Number(r.uses),
  revokedAt: num(r.revoked_at),
});

export async function insertRegistrationToken(db: Knex, t: RegistrationTokenRow): Promise<void> {
  await db('registration_tokens').insert({
    id: t.id,
    token_hash: t.tokenHash,
    description: t.description,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    max_uses: t.maxUses,
    uses: t.uses,
    revoked_at: t.revokedAt,
  });
}

/** Whether a token with this hash can still be spent (not revoked, expired or used up). */
export async function usableRegistrationToken(db: Knex, tokenHash: string, now: number): Promise<boolean> {
  return (await usable(db, tokenHash, now).first('id')) !== undefined;
}

/**
 * Spends one use of the token (RFC 7591 §3), decided by the database: a conditional UPDATE whose
 * row count says whether this request got a use, the same on every instance.
 */
export async function spendRegistrationToken(db: Knex, tokenHash: string, now: number): Promise<boolean> {
  const n = await usable(db, tokenHash, now).update({ uses: db.raw('uses + 1') });
  return n > 0;
}

function usable(db: Knex, tokenHash: string, now: number): Knex.QueryBuilder {
  return db('registration_tokens')
    .where({ token_hash: tokenHash })
    .whereNull('revoked_at')
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now))
    .where((q) => q.whereNull('max_uses').orWhereRaw('uses < max_uses'));
}

export async function listRegistrationTokens(db: Knex, opts: { limit: number; cursor?: string }): Promise<Page<RegistrationTokenRow>> {
  return paginate(db('registration_tokens').select('*'), 'id', opts, toRow);
}

/** Revokes a token; false when there is no such token (revoking twice is allowed). */
export async function revokeRegistrationToken(db: Knex, id: string, now: number): Promise<boolean> {
  const row = await db('registration_tokens').where({ id }).first('id');
  if (!row) return false;
  await db('registration_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: now });
  return true;
}

/** Tokens that can no longer be spent, a week after that (kept a while so admins see them in the list). */
export async function deleteSpentRegistrationTokens(db: Knex, now: number): Promise<number> {
  const cutoff = now - 7 * 86400;
  return db('registration_tokens')
    .where((q) => q.where('revoked_at', '<=', cutoff).orWhere('expires_at', '<=', cutoff))
    .delete();
}

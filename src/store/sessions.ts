import type { Knex } from 'knex';

export interface SessionRow {
  idHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

export async function insertSession(db: Knex, s: SessionRow): Promise<void> {
  await db('sessions').insert({ id_hash: s.idHash, user_id: s.userId, created_at: s.createdAt, expires_at: s.expiresAt });
}

/** The live session with this hash, if any. */
export async function findSession(db: Knex, idHash: string, now: number): Promise<SessionRow | undefined> {
  const r = await db('sessions').where({ id_hash: idHash }).where('expires_at', '>', now).first();
  return r ? { idHash: r.id_hash, userId: r.user_id, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) } : undefined;
}

export async function deleteSession(db: Knex, idHash: string): Promise<void> {
  await db('sessions').where({ id_hash: idHash }).delete();
}

export async function deleteSessionsOf(db: Knex, userId: string): Promise<void> {
  await db('sessions').where({ user_id: userId }).delete();
}

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Records a DPoP proof (RFC 9449 §11.1) by its key's thumbprint and its `jti`, kept until
 * `expiresAt` (when the proof could no longer be accepted anyway). Single use is decided by the
 * database, a unique insert: true for the first use of the pair on any instance, false for a replay.
 */
export async function recordDpopProof(db: Knex, jkt: string, jti: string, expiresAt: number): Promise<boolean> {
  const key = createHash('sha256').update(`${jkt}\0${jti}`).digest('hex');
  const inserted = await db('dpop_proofs').insert({ key, expires_at: expiresAt }).onConflict('key').ignore().returning('key');
  return inserted.length === 1;
}

/** Deletes the records of proofs that can no longer be accepted. */
export async function deleteExpiredDpopProofs(db: Knex, now: number): Promise<number> {
  return db('dpop_proofs').where('expires_at', '<=', now).delete();
}

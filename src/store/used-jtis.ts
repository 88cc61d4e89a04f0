import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Records a value that may be used once (a DPoP proof's `jti` with its key's thumbprint, RFC 9449
 * §11.1; a client assertion's `jti` with its client, RFC 7523 §3), named by `parts`, kept until
 * `expiresAt` (when it could no longer be accepted anyway). Single use is decided by the database,
 * a unique insert: true for the first use on any instance, false for a replay. The key is a hash,
 * so it is fixed width and nothing hostile reaches the driver.
 */
export async function recordUsedJti(db: Knex, parts: string[], expiresAt: number): Promise<boolean> {
  const key = createHash('sha256').update(parts.join('\0')).digest('hex');
  const inserted = await db('used_jtis').insert({ key, expires_at: expiresAt }).onConflict('key').ignore().returning('key');
  return inserted.length === 1;
}

/** Deletes the records of values that can no longer be accepted. */
export async function deleteExpiredJtis(db: Knex, now: number): Promise<number> {
  return db('used_jtis').where('expires_at', '<=', now).delete();
}

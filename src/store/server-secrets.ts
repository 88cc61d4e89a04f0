import type { Knex } from 'knex';

/** How a secret is kept at rest: sealed under the key-encryption key (keys/sealing.ts), never in the clear. */
export interface SecretSealing {
  seal(plaintext: string): string;
  unseal(sealed: string): string;
  /** Whether a stored value is sealed (rather than in the clear, as an older version stored it). */
  isSealed(value: string): boolean;
}

/**
 * A named random secret shared by every instance: made once (the first instance to ask wins the
 * insert; the others read its value), never changed, and stored sealed: a copy of the database alone
 * does not give it (the refresh grant's successor key would let a dump walk a refresh token's chain
 * offline). A value stored in the clear by an older version is sealed in place, unchanged.
 */
export async function serverSecret(db: Knex, name: string, make: () => string, sealing: SecretSealing, now: number): Promise<string> {
  await db('server_secrets').insert({ name, value: sealing.seal(make()), created_at: now }).onConflict('name').ignore();
  const stored = (await db('server_secrets').where({ name }).first()).value as string;
  if (sealing.isSealed(stored)) return sealing.unseal(stored);
  await db('server_secrets').where({ name, value: stored }).update({ value: sealing.seal(stored) });
  return stored;
}

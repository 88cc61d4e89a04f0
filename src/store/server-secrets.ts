import type { Knex } from 'knex';

/**
 * A named random secret shared by every instance: made once (the first instance to ask wins the
 * insert; the others read its value), never changed.
 */
export async function serverSecret(db: Knex, name: string, make: () => string, now: number): Promise<string> {
  await db('server_secrets').insert({ name, value: make(), created_at: now }).onConflict('name').ignore();
  const row = await db('server_secrets').where({ name }).first();
  return row.value as string;
}

import type { Knex } from 'knex';

/** Records that instance `id` is alive now, and forgets instances silent for a minute. */
export async function heartbeat(db: Knex, id: string, now: number): Promise<void> {
  await db('instances').insert({ id, seen_at: now }).onConflict('id').merge({ seen_at: now });
  await db('instances').where('seen_at', '<', now - 60).delete();
}

/** How many instances said they were alive within `window` seconds (at least 1: this one). */
export async function liveInstances(db: Knex, now: number, window: number): Promise<number> {
  const row = (await db('instances').where('seen_at', '>=', now - window).count({ n: '*' }).first()) as { n: number | string };
  return Math.max(1, Number(row.n));
}

export async function forgetInstance(db: Knex, id: string): Promise<void> {
  await db('instances').where({ id }).delete();
}

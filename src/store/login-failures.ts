import type { Knex } from 'knex';

/** A failed-login count: how many failures since the window began, and when the window ends. */
export interface LoginFailureRow {
  key: string;
  failures: number;
  windowEnds: number;
}

/**
 * Counts one failure under each of `keys`. The first failure (or the first after a window ended)
 * opens a window of `window` seconds; later ones in it add to the count. One upsert, so failures
 * recorded at once by several instances all count.
 */
export async function recordLoginFailures(db: Knex, keys: string[], now: number, window: number): Promise<void> {
  await db('login_failures')
    .insert(keys.map((key) => ({ key, failures: 1, window_ends: now + window })))
    .onConflict('key')
    .merge({
      failures: db.raw('CASE WHEN login_failures.window_ends <= ? THEN 1 ELSE login_failures.failures + 1 END', [now]),
      window_ends: db.raw('CASE WHEN login_failures.window_ends <= ? THEN ? ELSE login_failures.window_ends END', [now, now + window]),
    });
}

/** The counts under `keys` whose window is still open. */
export async function openLoginFailures(db: Knex, keys: string[], now: number): Promise<LoginFailureRow[]> {
  const rows = await db('login_failures').whereIn('key', keys).where('window_ends', '>', now);
  return rows.map((r) => ({ key: r.key, failures: Number(r.failures), windowEnds: Number(r.window_ends) }));
}

export async function clearLoginFailures(db: Knex, key: string): Promise<void> {
  await db('login_failures').where({ key }).delete();
}

export async function deleteEndedLoginFailures(db: Knex, now: number): Promise<number> {
  return db('login_failures').where('window_ends', '<=', now).delete();
}

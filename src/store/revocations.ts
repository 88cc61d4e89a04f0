import type { Knex } from 'knex';

/** One entry of the append-only revocation list. */
export interface RevocationRow {
  seq: number;
  grantId: string;
  revokedAt: number;
  reason: string;
  revokedBy: string;
}

interface RawRevocation {
  seq: number | string;
  grant_id: string;
  revoked_at: number | string;
  reason: string;
  revoked_by: string;
}

const toRow = (r: RawRevocation): RevocationRow => ({
  seq: Number(r.seq),
  grantId: r.grant_id,
  revokedAt: Number(r.revoked_at),
  reason: r.reason,
  revokedBy: r.revoked_by,
});

/** Appends an entry; the sequence number comes from the database. */
export async function appendRevocation(db: Knex, entry: Omit<RevocationRow, 'seq'>): Promise<number> {
  const [row] = await db('revocations').insert(
    { grant_id: entry.grantId, revoked_at: entry.revokedAt, reason: entry.reason, revoked_by: entry.revokedBy },
    ['seq'],
  );
  return Number((row as { seq: number }).seq);
}

export async function revocationsSince(db: Knex, since: number, limit: number): Promise<RevocationRow[]> {
  const rows = await db<RawRevocation>('revocations').where('seq', '>', since).orderBy('seq', 'asc').limit(limit);
  return rows.map(toRow);
}

export async function findRevocation(db: Knex, grantId: string): Promise<RevocationRow | undefined> {
  const raw = await db<RawRevocation>('revocations').where({ grant_id: grantId }).first();
  return raw ? toRow(raw) : undefined;
}

/** A cheap fingerprint of the list: it changes whenever an entry is committed, in any order. */
export async function revocationListVersion(db: Knex): Promise<{ maxSeq: number; count: number }> {
  const row = (await db('revocations').max({ m: 'seq' }).count({ n: '*' }).first()) as { m: number | string | null; n: number | string };
  return { maxSeq: row.m === null ? 0 : Number(row.m), count: Number(row.n) };
}

/**
 * Status indexes of revoked grants whose entry has a sequence above `since`. Bits are only ever
 * set, so a caller may re-read overlapping windows safely.
 */
export async function revokedStatusIndexesSince(db: Knex, since: number): Promise<Array<{ seq: number; statusIndex: number }>> {
  const rows = await db('revocations')
    .join('grants', 'grants.id', 'revocations.grant_id')
    .where('revocations.seq', '>', since)
    .whereNotNull('grants.status_index')
    .select({ seq: 'revocations.seq', statusIndex: 'grants.status_index' });
  return rows.map((r: { seq: number | string; statusIndex: number | string }) => ({ seq: Number(r.seq), statusIndex: Number(r.statusIndex) }));
}

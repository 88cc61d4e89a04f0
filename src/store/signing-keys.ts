import type { Knex } from 'knex';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: string;
  sealedPrivateKey: string;
  createdAt: number;
  activatesAt: number;
  removesAt: number | null;
}

const toRow = (r: Record<string, any>): SigningKeyRow => ({
  kid: r.kid,
  alg: r.alg,
  publicJwk: r.public_jwk,
  sealedPrivateKey: r.sealed_private_key,
  createdAt: Number(r.created_at),
  activatesAt: Number(r.activates_at),
  removesAt: r.removes_at === null ? null : Number(r.removes_at),
});

/** Every key not yet removed, oldest activation first. */
export async function liveSigningKeys(db: Knex, now: number): Promise<SigningKeyRow[]> {
  const rows = await db('signing_keys')
    .where((q) => q.whereNull('removes_at').orWhere('removes_at', '>', now))
    .orderBy('activates_at', 'asc');
  return rows.map(toRow);
}

export async function insertSigningKey(db: Knex, k: SigningKeyRow): Promise<void> {
  await db('signing_keys').insert({
    kid: k.kid,
    alg: k.alg,
    public_jwk: k.publicJwk,
    sealed_private_key: k.sealedPrivateKey,
    created_at: k.createdAt,
    activates_at: k.activatesAt,
    removes_at: k.removesAt,
  });
}

/** Schedules the removal of every key that activated before `activatesAt` and has no removal yet. */
export async function scheduleRemovalBefore(db: Knex, activatesAt: number, removesAt: number): Promise<void> {
  await db('signing_keys').where('activates_at', '<', activatesAt).whereNull('removes_at').update({ removes_at: removesAt });
}

export async function deleteRemovedKeys(db: Knex, now: number): Promise<number> {
  return db('signing_keys').whereNotNull('removes_at').where('removes_at', '<=', now).delete();
}

/** The change epoch of the keys: bumped by every rotation; instances poll it. */
export async function keysEpoch(db: Knex): Promise<number> {
  const row = await db('change_epochs').where({ name: 'keys' }).first('epoch');
  return Number(row?.epoch ?? 0);
}

/**
 * Claims the right to rotate: an optimistic bump of the keys epoch from the value seen. Of several
 * instances deciding at once, exactly one gets true.
 */
export async function claimKeysEpoch(db: Knex, seen: number): Promise<boolean> {
  return (await db('change_epochs').where({ name: 'keys', epoch: seen }).update({ epoch: seen + 1 })) === 1;
}

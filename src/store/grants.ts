import type { Knex } from 'knex';
import type { GrantRow } from './tables.js';

interface RawGrant {
  id: string;
  client_id: string;
  user_id: string | null;
  resource: string;
  scope: string;
  kind: string;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const toRow = (r: RawGrant): GrantRow => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  resource: r.resource,
  scope: r.scope,
  kind: r.kind as GrantRow['kind'],
  createdAt: Number(r.created_at),
  lastUsedAt: num(r.last_used_at),
  revokedAt: num(r.revoked_at),
});

/** The live standing client_credentials grant of (client, resource), if any. */
export async function findStandingGrant(db: Knex, clientId: string, resource: string): Promise<GrantRow | undefined> {
  const raw = await db<RawGrant>('grants')
    .where({ client_id: clientId, resource, kind: 'client_credentials' })
    .whereNull('revoked_at')
    .first();
  return raw ? toRow(raw) : undefined;
}

/**
 * Inserts a standing grant unless one exists (the partial unique index decides a race), then
 * returns the one that stands.
 */
export async function ensureStandingGrant(db: Knex, grant: GrantRow): Promise<GrantRow> {
  await db('grants')
    .insert({
      id: grant.id,
      client_id: grant.clientId,
      user_id: grant.userId,
      resource: grant.resource,
      scope: grant.scope,
      kind: grant.kind,
      created_at: grant.createdAt,
      last_used_at: grant.lastUsedAt,
      revoked_at: null,
    })
    // No target: the only conflict possible is the partial unique index grants_standing.
    .onConflict()
    .ignore();
  const standing = await findStandingGrant(db, grant.clientId, grant.resource);
  if (!standing) throw new Error('standing grant vanished after insert');
  return standing;
}

export async function findGrant(db: Knex, id: string): Promise<GrantRow | undefined> {
  const raw = await db<RawGrant>('grants').where({ id }).first();
  return raw ? toRow(raw) : undefined;
}

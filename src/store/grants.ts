import type { Knex } from 'knex';
import { paginate } from './paginate.js';
import { rawTransaction, type RawStatements } from './raw-sql.js';
import type { GrantRow, Page } from './tables.js';

interface RawGrant {
  id: string;
  client_id: string;
  user_id: string | null;
  resource: string;
  scope: string;
  kind: string;
  status_index: number | string | null;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
  expires_at: number | string | null;
  parent_grant_id?: string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const toRow = (r: RawGrant): GrantRow => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  resource: r.resource,
  scope: r.scope,
  kind: r.kind as GrantRow['kind'],
  statusIndex: Number(r.status_index),
  createdAt: Number(r.created_at),
  lastUsedAt: num(r.last_used_at),
  revokedAt: num(r.revoked_at),
  expiresAt: num(r.expires_at),
  parentGrantId: r.parent_grant_id ?? null,
});

const toRaw = (g: GrantRow): RawGrant => ({
  id: g.id,
  client_id: g.clientId,
  user_id: g.userId,
  resource: g.resource,
  scope: g.scope,
  kind: g.kind,
  status_index: g.statusIndex,
  created_at: g.createdAt,
  last_used_at: g.lastUsedAt,
  revoked_at: g.revokedAt,
  expires_at: g.expiresAt,
  ...(g.parentGrantId ? { parent_grant_id: g.parentGrantId } : {}),
});

/**
 * A grant's columns as `g_<column>` from `table` (a table name or alias), for the hot reads that
 * join a grant to what refers to it (a refresh token, an authorization code); `prefixedGrant` reads
 * them back.
 */
export function prefixedGrantColumns(table: string): string {
  return GRANT_COLUMN_NAMES.map((c) => `${table}.${c} AS g_${c}`).join(', ');
}
const GRANT_COLUMN_NAMES = ['id', 'client_id', 'user_id', 'resource', 'scope', 'kind', 'status_index', 'created_at', 'last_used_at', 'revoked_at', 'expires_at', 'parent_grant_id'];

/** The grant of a row read with prefixedGrantColumns (undefined when a LEFT JOIN found none). */
export function prefixedGrant(r: Record<string, any>): GrantRow | undefined {
  if (r.g_id === null || r.g_id === undefined) return undefined;
  const raw: Record<string, unknown> = {};
  for (const c of GRANT_COLUMN_NAMES) raw[c] = r[`g_${c}`];
  return toRow(raw as unknown as RawGrant);
}

/**
 * Issue #10: narrows a grant's scope to what its client and resource still allow, only from the
 * scope it had when read: a person approving more at that moment keeps what they approved (the
 * next refresh narrows again). A statement of a token grant's own transaction (raw-sql.ts).
 */
export async function narrowGrantScope(sql: RawStatements, id: string, from: string, to: string): Promise<void> {
  await sql.all('UPDATE grants SET scope = ? WHERE id = ? AND scope = ?', [to, id, from]);
}

/** Marks grants used at `at` (idle timeout), in one statement of a token grant's own transaction (raw-sql.ts). */
export async function touchGrants(sql: RawStatements, grantIds: readonly string[], at: number): Promise<void> {
  await sql.all(`UPDATE grants SET last_used_at = ? WHERE id IN (${grantIds.map(() => '?').join(', ')})`, [at, ...grantIds]);
}

/**
 * Hands out the next status list index (draft-ietf-oauth-status-list): an autoincrement row, so
 * two grants never share an index and none is handed out twice, on every database.
 */
export async function allocateStatusIndex(db: Knex, grantId: string): Promise<number> {
  const [row] = await db('status_indexes').insert({ grant_id: grantId }, ['idx']);
  return Number((row as { idx: number }).idx);
}

/** The largest index handed out so far (-1 when none): the status list covers 0…this. */
export async function maxStatusIndex(db: Knex): Promise<number> {
  const row = (await db('status_indexes').max({ m: 'idx' }).first()) as { m: number | string | null } | undefined;
  return row?.m === null || row?.m === undefined ? -1 : Number(row.m);
}

/** Inserts a grant (its status index already allocated). */
export async function insertGrant(db: Knex, grant: GrantRow): Promise<void> {
  await db('grants').insert(toRaw(grant));
}

/** The live standing client_credentials grant of (client, resource), if any. */
export async function findStandingGrant(db: Knex, clientId: string, resource: string): Promise<GrantRow | undefined> {
  const raw = await db<RawGrant>('grants')
    .where({ client_id: clientId, resource, kind: 'client_credentials' })
    .whereNull('revoked_at')
    .first();
  return raw ? toRow(raw) : undefined;
}

/**
 * Inserts a standing grant unless a live one exists (the partial unique index decides a race),
 * then returns the one that stands.
 */
export async function ensureStandingGrant(db: Knex, grant: GrantRow): Promise<GrantRow> {
  // No conflict target: the only conflict possible is the partial unique index grants_standing.
  await db('grants').insert(toRaw(grant)).onConflict().ignore();
  const standing = await findStandingGrant(db, grant.clientId, grant.resource);
  if (!standing) throw new Error('standing grant vanished after insert');
  return standing;
}

export async function findGrant(db: Knex, id: string): Promise<GrantRow | undefined> {
  const raw = await db<RawGrant>('grants').where({ id }).first();
  return raw ? toRow(raw) : undefined;
}

export interface GrantFilter {
  clientId?: string;
  userId?: string;
  status?: 'active' | 'revoked';
}

function filtered(db: Knex, filter: GrantFilter): Knex.QueryBuilder {
  const q = db('grants').select('*');
  if (filter.clientId !== undefined) q.where('client_id', filter.clientId);
  if (filter.userId !== undefined) q.where('user_id', filter.userId);
  if (filter.status === 'active') q.whereNull('revoked_at');
  if (filter.status === 'revoked') q.whereNotNull('revoked_at');
  return q;
}

export async function listGrants(db: Knex, filter: GrantFilter, opts: { limit: number; cursor?: string }): Promise<Page<GrantRow>> {
  return paginate(filtered(db, filter), 'id', opts, toRow);
}

/** Ids of the live grants matching the filter (to revoke them together). */
export async function activeGrantIds(db: Knex, filter: Omit<GrantFilter, 'status'>): Promise<string[]> {
  const rows = await filtered(db, { ...filter, status: 'active' }).clearSelect().select('id');
  return rows.map((r: { id: string }) => r.id);
}

/** Marks a live grant revoked; answers its kind, or undefined when it was unknown or already revoked. */
export async function markGrantRevoked(db: Knex, id: string, at: number): Promise<GrantRow['kind'] | undefined> {
  const n = await db('grants').where({ id }).whereNull('revoked_at').update({ revoked_at: at });
  if (n === 0) return undefined;
  return (await db('grants').where({ id }).first('kind'))?.kind;
}

/**
 * The live grants made by exchanging tokens of these grants (RFC 8693), marked revoked now; answers
 * their ids. Run in the parent's revocation transaction, a generation at a time, for chains.
 */
export async function revokeChildGrants(db: Knex, parentIds: string[], at: number): Promise<string[]> {
  const ids = (await db('grants').whereIn('parent_grant_id', parentIds).whereNull('revoked_at').select('id')).map((r: { id: string }) => r.id);
  if (ids.length === 0) return [];
  await db('grants').whereIn('id', ids).whereNull('revoked_at').update({ revoked_at: at });
  return ids;
}

/**
 * Inserts a grant derived from a live parent (token exchange), with its status list index, in one
 * transaction through the driver (raw-sql.ts; knex's transaction cost more CPU than its
 * statements). The parent's row is locked first by a no-op conditional UPDATE whose row count says
 * whether it is still live: a child inserted under this lock cannot miss a revocation of its
 * parent — a revocation that commits first makes this answer false (nothing is written), one that
 * comes after waits and then finds the child (src/revocation/revoke-grant.ts). Sets the child's
 * `statusIndex`.
 */
export async function insertChildGrant(db: Knex, child: GrantRow & { parentGrantId: string }): Promise<boolean> {
  return rawTransaction(db, async (sql) => {
    const live = await sql.all('UPDATE grants SET revoked_at = NULL WHERE id = ? AND revoked_at IS NULL RETURNING id', [child.parentGrantId]);
    if (live.length === 0) return false;
    const [allocated] = await sql.all('INSERT INTO status_indexes (grant_id) VALUES (?) RETURNING idx', [child.id]);
    child.statusIndex = Number(allocated.idx);
    const row = toRaw(child);
    const columns = Object.keys(row);
    await sql.all(`INSERT INTO grants (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
    return true;
  });
}

/** The live delegated grant of (person, client, resource), if any: consent given once is kept here. */
export async function findUserGrant(db: Knex, userId: string, clientId: string, resource: string): Promise<GrantRow | undefined> {
  const raw = await db<RawGrant>('grants')
    .where({ user_id: userId, client_id: clientId, resource, kind: 'authorization_code' })
    .whereNull('revoked_at')
    .orderBy('created_at', 'desc')
    .first();
  return raw ? toRow(raw) : undefined;
}

/** Widens a delegated grant's consented scope (a person approved more). */
export async function setGrantScope(db: Knex, id: string, scope: string): Promise<void> {
  await db('grants').where({ id }).update({ scope });
}

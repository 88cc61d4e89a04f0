import { OAuthError } from '../errors.js';
import { validate } from '../lib/validate.js';
import type { Db } from '../store/db.js';
import { findGrant, listGrants } from '../store/grants.js';
import { findRevocation, revocationsSince, type RevocationRow } from '../store/revocations.js';
import type { GrantRow, Page } from '../store/tables.js';
import { revokeGrant, revokeGrantsOf, type RevokeDeps, type Revoker } from './revoke-grant.js';
import { GrantListQuerySchema, RevocationFeedQuerySchema, RevokeGrantBodySchema, RevokeManySchema } from './schemas.js';

/** A grant as admins see it. */
export interface GrantView {
  id: string;
  client_id: string;
  user_id: string | null;
  kind: GrantRow['kind'];
  resource: string;
  scope: string;
  status: 'active' | 'revoked';
  status_index: number;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** RFC 8693: the grant whose token was exchanged for this one (kind token_exchange). */
  parent_grant_id?: string;
  revocation?: { seq: number; reason: string; revoked_by: string };
}

export function viewGrant(g: GrantRow, revocation?: RevocationRow): GrantView {
  return {
    id: g.id,
    client_id: g.clientId,
    user_id: g.userId,
    kind: g.kind,
    resource: g.resource,
    scope: g.scope,
    status: g.revokedAt === null ? 'active' : 'revoked',
    status_index: g.statusIndex,
    created_at: g.createdAt,
    last_used_at: g.lastUsedAt,
    revoked_at: g.revokedAt,
    ...(g.parentGrantId ? { parent_grant_id: g.parentGrantId } : {}),
    ...(revocation ? { revocation: { seq: revocation.seq, reason: revocation.reason, revoked_by: revocation.revokedBy } } : {}),
  };
}

export interface RevocationView {
  seq: number;
  grant_id: string;
  revoked_at: number;
  reason: string;
  revoked_by: string;
}

const viewRevocation = (r: RevocationRow): RevocationView => ({ seq: r.seq, grant_id: r.grantId, revoked_at: r.revokedAt, reason: r.reason, revoked_by: r.revokedBy });

export async function listGrantViews(deps: { db: Db }, query: unknown): Promise<Page<GrantView>> {
  const q = validate(GrantListQuerySchema, query);
  const page = await listGrants(deps.db, { clientId: q.client_id, userId: q.user_id, status: q.status }, { limit: q.limit, cursor: q.cursor });
  return { items: page.items.map((g) => viewGrant(g)), nextCursor: page.nextCursor };
}

export async function getGrantView(deps: { db: Db }, id: string): Promise<GrantView> {
  const grant = await findGrant(deps.db, id);
  if (!grant) throw new OAuthError('not_found', 'no such grant');
  return viewGrant(grant, grant.revokedAt === null ? undefined : await findRevocation(deps.db, id));
}

/** DELETE /admin/grants/:id — idempotent: revoking a revoked grant answers its state again. */
export async function revokeGrantById(deps: RevokeDeps, id: string, body: unknown, by: string): Promise<GrantView> {
  const { reason } = validate(RevokeGrantBodySchema, body ?? {});
  if (!(await findGrant(deps.db, id))) throw new OAuthError('not_found', 'no such grant');
  await revokeGrant(deps, id, { reason: reason ?? 'revoked by an administrator', by });
  return getGrantView(deps, id);
}

/** POST /admin/revocations — every grant of a client or of a person, in one step. */
export async function revokeMany(deps: RevokeDeps, body: unknown, by: string): Promise<{ revoked: number }> {
  const b = validate(RevokeManySchema, body);
  const revoker: Revoker = { reason: b.reason ?? 'revoked by an administrator', by };
  const owner = 'client_id' in b ? { clientId: b.client_id } : { userId: b.user_id };
  return { revoked: await revokeGrantsOf(deps, owner, revoker) };
}

/** GET /admin/revocations?since=SEQ — the list read from a sequence number on. */
export async function revocationFeed(deps: { db: Db }, query: unknown): Promise<{ items: RevocationView[]; next_since: number }> {
  const q = validate(RevocationFeedQuerySchema, query);
  const rows = await revocationsSince(deps.db, q.since, q.limit);
  return { items: rows.map(viewRevocation), next_since: rows.length ? rows[rows.length - 1].seq : q.since };
}

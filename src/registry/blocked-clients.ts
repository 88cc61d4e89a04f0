import { OAuthError } from '../errors.js';
import { validate } from '../lib/validate.js';
import { revokeGrantsOf } from '../revocation/revoke-grant.js';
import * as blocked from '../store/blocked-clients.js';
import * as clients from '../store/clients.js';
import { recordChange } from '../store/read-cache.js';
import type { Page } from '../store/tables.js';
import type { ClientRegistryDeps } from './clients.js';
import { AnyClientIdSchema, BlockClientSchema, ListQuerySchema } from './schemas.js';

export interface BlockedClientView {
  client_id: string;
  reason: string | null;
  created_at: number;
}

const view = (r: blocked.BlockedClientRow): BlockedClientView => ({ client_id: r.clientId, reason: r.reason, created_at: r.createdAt });

/**
 * Blocks a client (issue #11): a metadata-document URL is refused from now on, before any fetch;
 * a registered client is disabled. Either way every grant it holds is revoked, so its tokens stop
 * working everywhere. Idempotent.
 */
export async function blockClient(deps: ClientRegistryDeps, input: unknown, by = 'admin'): Promise<BlockedClientView> {
  const body = validate(BlockClientSchema, input);
  const row = { clientId: body.client_id, reason: body.reason ?? null, createdAt: deps.clock.now() };
  await blocked.insertBlockedClient(deps.db, row);
  if (await clients.findClient(deps.db, body.client_id)) {
    await clients.updateClient(deps.db, body.client_id, { disabled: true, updatedAt: row.createdAt });
  }
  await recordChange(deps.db);
  deps.readCache.invalidate();
  await revokeGrantsOf(deps, { clientId: body.client_id }, { reason: body.reason ? `client blocked: ${body.reason}` : 'client blocked', by });
  return view(row);
}

/** Lifts a block (a registered client is enabled again); its revoked grants stay revoked. */
export async function unblockClient(deps: ClientRegistryDeps, clientIdValue: string): Promise<void> {
  const id = validate(AnyClientIdSchema, clientIdValue);
  if (!(await blocked.deleteBlockedClient(deps.db, id))) throw new OAuthError('not_found', 'this client is not blocked');
  if (await clients.findClient(deps.db, id)) await clients.updateClient(deps.db, id, { disabled: false, updatedAt: deps.clock.now() });
  await recordChange(deps.db);
  deps.readCache.invalidate();
}

export async function listBlockedClients(deps: Pick<ClientRegistryDeps, 'db'>, query: unknown): Promise<Page<BlockedClientView>> {
  const { limit, cursor } = validate(ListQuerySchema, query);
  const page = await blocked.listBlockedClients(deps.db, { limit, cursor });
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

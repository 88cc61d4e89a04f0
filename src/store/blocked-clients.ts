import type { Knex } from 'knex';
import { paginate } from './paginate.js';
import type { Page } from './tables.js';

export interface BlockedClientRow {
  clientId: string;
  reason: string | null;
  createdAt: number;
}

interface RawBlocked {
  client_id: string;
  reason: string | null;
  created_at: number | string;
}

const toRow = (r: RawBlocked): BlockedClientRow => ({ clientId: r.client_id, reason: r.reason, createdAt: Number(r.created_at) });

/** Blocks a client_id; false when it was blocked already. */
export async function insertBlockedClient(db: Knex, row: BlockedClientRow): Promise<boolean> {
  if (await isClientBlocked(db, row.clientId)) return false;
  await db('blocked_clients').insert({ client_id: row.clientId, reason: row.reason, created_at: row.createdAt }).onConflict('client_id').ignore();
  return true;
}

export async function isClientBlocked(db: Knex, clientId: string): Promise<boolean> {
  return (await db('blocked_clients').where({ client_id: clientId }).first('client_id')) !== undefined;
}

export async function deleteBlockedClient(db: Knex, clientId: string): Promise<boolean> {
  return (await db('blocked_clients').where({ client_id: clientId }).delete()) > 0;
}

export async function listBlockedClients(db: Knex, opts: { limit: number; cursor?: string }): Promise<Page<BlockedClientRow>> {
  return paginate(db('blocked_clients').select('*'), 'client_id', opts, toRow);
}

import type { Knex } from 'knex';
import { allRedirectOrigins, findClient } from './clients.js';
import { findStandingGrant } from './grants.js';
import { allResources } from './resources.js';
import type { ClientRow, GrantRow, ResourceRow } from './tables.js';

/**
 * In-memory copies of what every token request reads — the client, the resources, the standing
 * grant — so a warm client_credentials request touches no database at all. Correctness comes from
 * the change epoch: every write to clients, resources or grants bumps it (`recordChange`), the
 * writing instance drops its copies at once (`invalidate`), and every instance polls the epoch
 * at most every `pollMs` and drops its copies when it moved. Misses are never cached.
 */
export interface ReadCache {
  client(clientId: string): Promise<ClientRow | undefined>;
  resources(): Promise<ResourceRow[]>;
  resource(identifier: string): Promise<ResourceRow | undefined>;
  standingGrant(clientId: string, resource: string): Promise<GrantRow | undefined>;
  /** Origins (scheme://host:port) of every registered redirect URI: the browser apps CORS admits. */
  redirectOrigins(): Promise<Set<string>>;
  /** Drops every copy now (this instance just changed something). */
  invalidate(): void;
}

export interface ReadCacheOptions {
  /** How often (ms) to look at the change epoch. */
  pollMs?: number;
  /** Most entries per map before it is emptied. */
  maxEntries?: number;
}

/** Bumps the change epoch; call it with the handle (or transaction) that made the change. */
export async function recordChange(db: Knex): Promise<void> {
  await db('change_epochs').where({ name: 'registry' }).increment('epoch', 1);
}

export function createReadCache(db: Knex, opts: ReadCacheOptions = {}): ReadCache {
  const pollMs = opts.pollMs ?? 250;
  const maxEntries = opts.maxEntries ?? 10_000;
  const clients = new Map<string, ClientRow>();
  const grants = new Map<string, GrantRow>();
  let resourceList: ResourceRow[] | undefined;
  let origins: Set<string> | undefined;
  let epoch: number | undefined;
  let polledAt = -Infinity;
  let polling: Promise<void> | undefined;
  // Bumped by every clear: a lookup that began before a clear must not store what it read.
  let generation = 0;

  const clear = () => {
    generation++;
    clients.clear();
    grants.clear();
    resourceList = undefined;
    origins = undefined;
  };

  async function poll(): Promise<void> {
    const row = await db('change_epochs').where({ name: 'registry' }).first('epoch');
    const seen = Number(row?.epoch ?? 0);
    if (seen !== epoch) {
      clear();
      epoch = seen;
    }
    polledAt = Date.now();
  }

  /** Makes sure the copies are no older than one poll interval. */
  async function fresh(): Promise<void> {
    if (Date.now() - polledAt < pollMs) return;
    polling ??= poll().finally(() => {
      polling = undefined;
    });
    await polling;
  }

  const remember = <V>(map: Map<string, V>, key: string, value: V | undefined, since: number): V | undefined => {
    if (value === undefined || since !== generation) return value;
    if (map.size >= maxEntries) map.clear();
    map.set(key, value);
    return value;
  };

  return {
    async client(clientId) {
      await fresh();
      const since = generation;
      return clients.get(clientId) ?? remember(clients, clientId, await findClient(db, clientId), since);
    },
    async resources() {
      await fresh();
      if (resourceList) return resourceList;
      const since = generation;
      const list = await allResources(db);
      if (since === generation) resourceList = list;
      return list;
    },
    async resource(identifier) {
      return (await this.resources()).find((r) => r.identifier === identifier);
    },
    async standingGrant(clientId, resource) {
      await fresh();
      const key = `${clientId} ${resource}`;
      const since = generation;
      return grants.get(key) ?? remember(grants, key, await findStandingGrant(db, clientId, resource), since);
    },
    async redirectOrigins() {
      await fresh();
      if (origins) return origins;
      const since = generation;
      const found = await allRedirectOrigins(db);
      if (since === generation) origins = found;
      return found;
    },
    invalidate() {
      clear();
      polledAt = -Infinity;
    },
  };
}

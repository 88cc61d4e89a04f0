import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { allRedirectOrigins, findClient } from './clients.js';
import { sharedFreshReads } from '../lib/fresh-reads.js';
import { findGrant, findStandingGrant } from './grants.js';
import { isClientBlocked } from './blocked-clients.js';
import { allResources } from './resources.js';
import type { ClientRow, GrantRow, ResourceRow } from './tables.js';

/**
 * In-memory copies of what every token request reads — the client, the resources, the standing
 * grant — so a warm client_credentials request touches no database at all. Correctness comes from
 * the change epoch: every write to clients, resources or grants bumps it (`recordChange`), the
 * writing instance drops its copies at once (`invalidate`), and every instance polls the epoch
 * at most every `pollMs` and drops its copies when it moved.
 *
 * A miss is never answered from the copies alone: what is not held is re-read from the database
 * first, so a client or resource registered a moment ago on another instance is found at once.
 * The absence that re-read confirms is remembered (a bounded number of names, for a short while,
 * and only until the epoch moves), so a flood of probes for one unknown name costs one query.
 */
export interface ReadCache {
  client(clientId: string): Promise<ClientRow | undefined>;
  /**
   * Every registered resource. `missing`: the caller looked for something in this list and did
   * not find it (the string names what); the list is then re-read before it is answered, unless
   * that same miss was already re-read since the last change.
   */
  resources(opts?: { missing?: string }): Promise<ResourceRow[]>;
  /**
   * What resources() would answer now when it has nothing to do (the list held, no poll due),
   * without a promise; otherwise undefined, and resources() it is.
   */
  heldResources(): ResourceRow[] | undefined;
  resource(identifier: string): Promise<ResourceRow | undefined>;
  standingGrant(clientId: string, resource: string): Promise<GrantRow | undefined>;
  /**
   * A grant as the database has it now — never a copy: the row comes from a read that began after
   * the call, so a revocation committed (by any instance) before the call is seen. Concurrent
   * callers for one grant share such reads (lib/fresh-reads.ts): one token introspected by many
   * resource servers at once costs two queries, not one each.
   */
  grantNow(grantId: string): Promise<GrantRow | undefined>;
  /**
   * Whether an admin blocked this client_id (issue #11): held like a client, so a block made on
   * this instance counts at once and one made elsewhere within a poll of the change epoch.
   */
  clientBlocked(clientId: string): Promise<boolean>;
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
  /** How long (ms) a confirmed absence is remembered, at most (the epoch clears it sooner). */
  missTtlMs?: number;
  /** Most absences remembered; the oldest goes first. */
  maxMisses?: number;
  /** Least time (ms) between two reads of the resource list forced by misses. */
  minRereadMs?: number;
}

/** Bumps the change epoch; call it with the handle (or transaction) that made the change. */
export async function recordChange(db: Knex): Promise<void> {
  await db('change_epochs').where({ name: 'registry' }).increment('epoch', 1);
}

export function createReadCache(db: Knex, opts: ReadCacheOptions = {}): ReadCache {
  const pollMs = opts.pollMs ?? 250;
  const maxEntries = opts.maxEntries ?? 10_000;
  const missTtlMs = opts.missTtlMs ?? 10_000;
  const maxMisses = opts.maxMisses ?? 1000;
  const minRereadMs = opts.minRereadMs ?? 50;
  const clients = new Map<string, ClientRow>();
  const grants = new Map<string, GrantRow>();
  const blocked = new Map<string, boolean>();
  /** Confirmed absences: key → when the entry lapses (ms). */
  const misses = new Map<string, number>();
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
    blocked.clear();
    misses.clear();
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

  /** Whether the copies are older than one poll interval. */
  const pollDue = () => Date.now() - polledAt >= pollMs;
  /** Makes sure the copies are no older than one poll interval. */
  async function fresh(): Promise<void> {
    if (!pollDue()) return;
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

  // Keys are bounded in size whatever the caller passes: long ones are stored as their hash.
  const missKey = (key: string) => (key.length <= 256 ? key : `#${createHash('sha256').update(key).digest('base64url')}`);
  const knownMissing = (key: string): boolean => {
    const until = misses.get(missKey(key));
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    misses.delete(missKey(key));
    return false;
  };
  const rememberMissing = (key: string, since: number): void => {
    if (since !== generation) return;
    const k = missKey(key);
    misses.delete(k);
    if (misses.size >= maxMisses) misses.delete(misses.keys().next().value as string);
    misses.set(k, Date.now() + missTtlMs);
  };

  // The resource list is read whole. Callers that need a read begun after they asked (a miss)
  // share one (lib/fresh-reads.ts), and such reads are at least `minRereadMs` apart: a flood of
  // misses, however large, costs at most one read per `minRereadMs`, and a miss waits at most that
  // long (plus one read) for its answer.
  let reading: { since: number; list: Promise<ResourceRow[]> } | undefined;
  const readResources = (): Promise<ResourceRow[]> => {
    const since = generation;
    const list = allResources(db).then((rows) => {
      if (since === generation) resourceList = rows;
      return rows;
    });
    reading = { since, list };
    const done = () => {
      if (reading?.list === list) reading = undefined;
    };
    list.then(done, done);
    return list;
  };
  const sharedResourceReads = sharedFreshReads((_list: 'resources') => readResources(), { minGapMs: minRereadMs });
  /** A read of the list that begins after this call. */
  const rereadResources = () => sharedResourceReads('resources');
  /** The held list, or a read of it that began since the copies were last dropped. */
  async function currentResources(): Promise<{ list: ResourceRow[]; justRead: boolean }> {
    await fresh();
    if (resourceList) return { list: resourceList, justRead: false };
    // A read begun since the copies were dropped will do; else one that begins now (or at the
    // end of the gap, when a read began less than `minRereadMs` ago).
    if (reading?.since === generation) return { list: await reading.list, justRead: true };
    return { list: await rereadResources(), justRead: true };
  }
  async function resourcesAfterMiss(missing: string): Promise<ResourceRow[]> {
    const current = await currentResources();
    const key = `resources ${missing}`;
    if (current.justRead) rememberMissing(key, generation);
    if (current.justRead || knownMissing(key)) return current.list;
    const since = generation;
    const list = await rereadResources();
    rememberMissing(key, since);
    return list;
  }

  const grantNow = sharedFreshReads((grantId: string) => findGrant(db, grantId));

  return {
    grantNow,
    async client(clientId) {
      await fresh();
      const held = clients.get(clientId);
      if (held) return held;
      const key = `client ${clientId}`;
      if (knownMissing(key)) return undefined;
      const since = generation;
      const found = await findClient(db, clientId);
      if (!found) rememberMissing(key, since);
      return remember(clients, clientId, found, since);
    },
    async resources(opts = {}) {
      if (opts.missing !== undefined) return resourcesAfterMiss(opts.missing);
      return (await currentResources()).list;
    },
    heldResources: () => (pollDue() ? undefined : resourceList),
    async resource(identifier) {
      const byIdentifier = (list: ResourceRow[]) => list.find((r) => r.identifier === identifier);
      return byIdentifier((await currentResources()).list) ?? byIdentifier(await resourcesAfterMiss(`identifier ${identifier}`));
    },
    async standingGrant(clientId, resource) {
      await fresh();
      const key = `${clientId} ${resource}`;
      const since = generation;
      return grants.get(key) ?? remember(grants, key, await findStandingGrant(db, clientId, resource), since);
    },
    async clientBlocked(clientId) {
      await fresh();
      const held = blocked.get(clientId);
      if (held !== undefined) return held;
      const since = generation;
      const found = await isClientBlocked(db, clientId);
      remember(blocked, clientId, found, since);
      return found;
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

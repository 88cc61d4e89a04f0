import type { Knex } from 'knex';
import { randomId } from '../lib/random.js';

/**
 * What happened, as the outbox keeps it: the facts a Security Event Token is built from at delivery
 * (src/ssf/set.ts owns the wire format, so it is written in one place).
 */
export type EventFacts =
  | { type: 'session-revoked'; grantId: string; clientId: string; resource: string[]; at: number; reason: string; revokedBy: string }
  | { type: 'verification'; streamId: string; state?: string; at: number };

/** One undelivered event of a stream. */
export interface EventRow {
  id: number;
  streamId: string;
  jti: string;
  facts: EventFacts;
  createdAt: number;
  attempts: number;
}

interface RawEvent {
  id: number | string;
  stream_id: string;
  jti: string;
  event: string;
  created_at: number | string;
  attempts: number | string;
}

const toRow = (r: RawEvent): EventRow => ({
  id: Number(r.id),
  streamId: r.stream_id,
  jti: r.jti,
  facts: JSON.parse(r.event),
  createdAt: Number(r.created_at),
  attempts: Number(r.attempts),
});

/** events_delivered holds this for streams that receive grant revocations (CAEP 1.0 §3.1). */
const SESSION_REVOKED_MARK = '%/caep/event-type/session-revoked%';
/** Inserted (and looked up) in batches of this many (SQLite caps the variables of one statement). */
const INSERT_BATCH = 100;

/**
 * The outbox write of a revocation, run inside its transaction (src/revocation/revoke-grant.ts):
 * one event per (revoked grant, stream whose `aud` names the grant's resource, not disabled, that
 * delivers session-revoked). Answers the ids of the streams that got events, to wake their
 * deliverers once the transaction has committed.
 */
export async function queueRevocationEvents(
  trx: Knex,
  revoked: Array<{ grantId: string; reason: string }>,
  at: number,
  revokedBy: string,
): Promise<string[]> {
  if (revoked.length === 0) return [];
  const reasons = new Map(revoked.map((r) => [r.grantId, r.reason]));
  const grants: Array<{ id: string; client_id: string; resource: string }> = await trx('grants').whereIn('id', [...reasons.keys()]).select('id', 'client_id', 'resource');
  const resources = [...new Set(grants.map((g) => g.resource))];
  const streams: Array<{ stream_id: string; audience: string }> = await trx('ssf_stream_audiences as a')
    .join('ssf_streams as s', 's.id', 'a.stream_id')
    .whereIn('a.audience', resources)
    .whereNot('s.status', 'disabled')
    .where('s.events_delivered', 'like', SESSION_REVOKED_MARK)
    .select('a.stream_id', 'a.audience');
  if (streams.length === 0) return [];
  const rows = grants.flatMap((g) =>
    streams
      .filter((s) => s.audience === g.resource)
      .map((s) => {
        const facts: EventFacts = { type: 'session-revoked', grantId: g.id, clientId: g.client_id, resource: [g.resource], at, reason: reasons.get(g.id) ?? '', revokedBy };
        return { stream_id: s.stream_id, jti: randomId(), event: JSON.stringify(facts), created_at: at, attempts: 0, next_attempt_at: at };
      }),
  );
  for (let i = 0; i < rows.length; i += INSERT_BATCH) await trx('ssf_events').insert(rows.slice(i, i + INSERT_BATCH));
  return [...new Set(streams.map((s) => s.stream_id))];
}

/** Queues one event on one stream (verification events, SSF 1.0 §8.1.4). */
export async function queueEvent(db: Knex, streamId: string, facts: EventFacts): Promise<void> {
  await db('ssf_events').insert({ stream_id: streamId, jti: randomId(), event: JSON.stringify(facts), created_at: facts.at, attempts: 0, next_attempt_at: facts.at });
}

/** How many verification events of a stream are still undelivered. */
export async function pendingVerifications(db: Knex, streamId: string): Promise<number> {
  const row = (await db('ssf_events').where({ stream_id: streamId }).where('event', 'like', '{"type":"verification"%').count({ n: '*' }).first()) as { n: number | string };
  return Number(row.n);
}

/** The oldest `limit` undelivered events of a stream. */
export async function pendingEvents(db: Knex, streamId: string, limit: number): Promise<EventRow[]> {
  return (await db<RawEvent>('ssf_events').where({ stream_id: streamId }).orderBy('id').limit(limit)).map(toRow);
}

/**
 * Removes acknowledged events of one stream (RFC 8936 §2.4.2): a jti of another stream, or one
 * already gone, removes nothing. Answers how many were removed.
 */
export async function removeEvents(db: Knex, streamId: string, jtis: string[]): Promise<number> {
  if (jtis.length === 0) return 0;
  return db('ssf_events').where({ stream_id: streamId }).whereIn('jti', jtis).delete();
}

/**
 * Which of these streams have undelivered events (an indexed read per stream): a long poll waits
 * only while its stream has none, so any event found is news to it, whatever order the inserting
 * transactions committed in.
 */
export async function streamsWithEvents(db: Knex, streamIds: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < streamIds.length; i += INSERT_BATCH) {
    const rows: Array<{ stream_id: string }> = await db('ssf_events').whereIn('stream_id', streamIds.slice(i, i + INSERT_BATCH)).distinct('stream_id');
    found.push(...rows.map((r) => r.stream_id));
  }
  return found;
}

/** A push event due for an attempt, with what delivering it needs of its stream. */
export interface DuePush extends EventRow {
  aud: string[];
  endpointUrl: string;
  sealedAuthorizationHeader: string | null;
}

/**
 * Push events due now whose lease is free, of enabled push streams of clients still enabled,
 * oldest first.
 */
export async function duePushEvents(db: Knex, pushMethod: string, now: number, limit: number): Promise<DuePush[]> {
  const rows = await db('ssf_events as e')
    .join('ssf_streams as s', 's.id', 'e.stream_id')
    .join('clients as c', 'c.client_id', 's.client_id')
    .where('s.delivery_method', pushMethod)
    .where('s.status', 'enabled')
    .where('c.disabled', false)
    .where('e.next_attempt_at', '<=', now)
    .where((q) => q.whereNull('e.lease_until').orWhere('e.lease_until', '<', now))
    .orderBy('e.id')
    .limit(limit)
    .select('e.*', 's.aud', 's.endpoint_url', 's.authorization_header');
  return rows.map((r: RawEvent & { aud: string; endpoint_url: string; authorization_header: string | null }) => ({
    ...toRow(r),
    aud: JSON.parse(r.aud),
    endpointUrl: r.endpoint_url,
    sealedAuthorizationHeader: r.authorization_header,
  }));
}

/**
 * Takes an event's lease until `until` unless another instance holds it (a conditional UPDATE:
 * the row count picks the one instance that pushes it).
 */
export async function leaseEvent(db: Knex, id: number, owner: string, now: number, until: number): Promise<boolean> {
  const n = await db('ssf_events')
    .where({ id })
    .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
    .update({ lease_until: until, lease_owner: owner });
  return n > 0;
}

/** Removes a delivered (or refused) event, if this instance still holds its lease. */
export async function removeLeasedEvent(db: Knex, id: number, owner: string): Promise<void> {
  await db('ssf_events').where({ id, lease_owner: owner }).delete();
}

/** Releases an event for another attempt at `nextAttemptAt`. */
export async function retryEventLater(db: Knex, id: number, owner: string, attempts: number, nextAttemptAt: number): Promise<void> {
  await db('ssf_events').where({ id, lease_owner: owner }).update({ attempts, next_attempt_at: nextAttemptAt, lease_until: null, lease_owner: null });
}

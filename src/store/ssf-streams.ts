import type { Knex } from 'knex';
import { dialectOf } from './raw-sql.js';

/** SSF 1.0 §8.1.2: a stream's status. */
export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** An SSF event stream (SSF 1.0 §8.1.1) as the rest of Grantor sees it. */
export interface StreamRow {
  id: string;
  /** The client that made the stream; only it sees and changes it. */
  clientId: string;
  /** Resource identifiers whose grants' revocations the stream receives; the SETs' `aud`. */
  aud: string[];
  /** `urn:ietf:rfc:8935` (push) or `urn:ietf:rfc:8936` (poll). */
  deliveryMethod: string;
  /** Push: the receiver's https URL. Poll: null (the poll URL is Grantor's own). */
  endpointUrl: string | null;
  /** Push: the Authorization header value to send, sealed (src/keys/sealing.ts); null when none. */
  sealedAuthorizationHeader: string | null;
  eventsRequested: string[];
  eventsDelivered: string[];
  description: string | null;
  status: StreamStatus;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

interface RawStream {
  id: string;
  client_id: string;
  aud: string;
  delivery_method: string;
  endpoint_url: string | null;
  authorization_header: string | null;
  events_requested: string;
  events_delivered: string;
  description: string | null;
  status: string;
  reason: string | null;
  created_at: number | string;
  updated_at: number | string;
}

const toRow = (r: RawStream): StreamRow => ({
  id: r.id,
  clientId: r.client_id,
  aud: JSON.parse(r.aud),
  deliveryMethod: r.delivery_method,
  endpointUrl: r.endpoint_url,
  sealedAuthorizationHeader: r.authorization_header,
  eventsRequested: JSON.parse(r.events_requested),
  eventsDelivered: JSON.parse(r.events_delivered),
  description: r.description,
  status: r.status as StreamStatus,
  reason: r.reason,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toRaw = (s: Partial<StreamRow>): Partial<RawStream> => {
  const raw: Partial<RawStream> = {};
  if (s.id !== undefined) raw.id = s.id;
  if (s.clientId !== undefined) raw.client_id = s.clientId;
  if (s.aud !== undefined) raw.aud = JSON.stringify(s.aud);
  if (s.deliveryMethod !== undefined) raw.delivery_method = s.deliveryMethod;
  if (s.endpointUrl !== undefined) raw.endpoint_url = s.endpointUrl;
  if (s.sealedAuthorizationHeader !== undefined) raw.authorization_header = s.sealedAuthorizationHeader;
  if (s.eventsRequested !== undefined) raw.events_requested = JSON.stringify(s.eventsRequested);
  if (s.eventsDelivered !== undefined) raw.events_delivered = JSON.stringify(s.eventsDelivered);
  if (s.description !== undefined) raw.description = s.description;
  if (s.status !== undefined) raw.status = s.status;
  if (s.reason !== undefined) raw.reason = s.reason;
  if (s.createdAt !== undefined) raw.created_at = s.createdAt;
  if (s.updatedAt !== undefined) raw.updated_at = s.updatedAt;
  return raw;
};

async function writeAudiences(trx: Knex, streamId: string, aud: string[]): Promise<void> {
  await trx('ssf_stream_audiences').where({ stream_id: streamId }).delete();
  if (aud.length) await trx('ssf_stream_audiences').insert([...new Set(aud)].map((audience) => ({ stream_id: streamId, audience })));
}

/**
 * Stores a stream unless its client already has `perClient` streams or all clients `total`; which cap
 * was reached, or undefined when stored. Counted and inserted in one transaction that concurrent
 * creators take in turn (PostgreSQL: a table lock that only creators of streams take; SQLite: its one
 * writer), so streams made at once never overshoot a cap.
 */
export async function insertStreamWithinCaps(db: Knex, stream: StreamRow, caps: { perClient: number; total: number }): Promise<'per_client' | 'total' | undefined> {
  return db.transaction(async (trx) => {
    if (dialectOf(db) === 'pg') await trx.raw('LOCK TABLE ssf_streams IN SHARE ROW EXCLUSIVE MODE');
    if ((await countStreams(trx, stream.clientId)) >= caps.perClient) return 'per_client';
    if ((await countStreams(trx)) >= caps.total) return 'total';
    await trx('ssf_streams').insert(toRaw(stream));
    await writeAudiences(trx, stream.id, stream.aud);
    return undefined;
  });
}

export async function findStream(db: Knex, id: string): Promise<StreamRow | undefined> {
  const raw = await db<RawStream>('ssf_streams').where({ id }).first();
  return raw ? toRow(raw) : undefined;
}

export async function listStreams(db: Knex, clientId: string): Promise<StreamRow[]> {
  return (await db<RawStream>('ssf_streams').where({ client_id: clientId }).orderBy('created_at').orderBy('id')).map(toRow);
}

/** How many streams exist: of one client, or in all. */
export async function countStreams(db: Knex, clientId?: string): Promise<number> {
  const q = db('ssf_streams').count({ n: '*' });
  if (clientId !== undefined) q.where({ client_id: clientId });
  const row = (await q.first()) as { n: number | string };
  return Number(row.n);
}

export async function updateStream(db: Knex, id: string, changes: Partial<StreamRow>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('ssf_streams').where({ id }).update(toRaw(changes));
    if (changes.aud !== undefined) await writeAudiences(trx, id, changes.aud);
  });
}

/** Deletes a stream with its audience rows and its undelivered events; answers whether it existed. */
export async function deleteStream(db: Knex, id: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    await trx('ssf_events').where({ stream_id: id }).delete();
    await trx('ssf_stream_audiences').where({ stream_id: id }).delete();
    return (await trx('ssf_streams').where({ id }).delete()) > 0;
  });
}

/** Deletes every stream of a client (the client is being deleted). */
export async function deleteStreamsOf(db: Knex, clientId: string): Promise<void> {
  for (const s of await listStreams(db, clientId)) await deleteStream(db, s.id);
}

/** Whether any push stream exists (the dispatcher then watches for due events). */
export async function pushStreamsExist(db: Knex, pushMethod: string): Promise<boolean> {
  return (await db('ssf_streams').where({ delivery_method: pushMethod }).first('id')) !== undefined;
}

/** Drops the undelivered events of a stream (it was disabled). */
export async function dropEvents(db: Knex, streamId: string): Promise<void> {
  await db('ssf_events').where({ stream_id: streamId }).delete();
}

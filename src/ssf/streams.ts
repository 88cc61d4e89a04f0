import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import { seal } from '../keys/sealing.js';
import type { Clock } from '../lib/clock.js';
import { randomId } from '../lib/random.js';
import { validate } from '../lib/validate.js';
import { checkPushEndpoint } from '../outbound/post-set.js';
import type { Db } from '../store/db.js';
import { findResourceByIdentifier } from '../store/resources.js';
import { pendingVerifications, queueEvent } from '../store/ssf-events.js';
import * as store from '../store/ssf-streams.js';
import type { StreamRow } from '../store/ssf-streams.js';
import { CreateStreamSchema, ReplaceStreamSchema, StreamIdQuerySchema, StreamQuerySchema, UpdateStatusSchema, UpdateStreamSchema, VerificationSchema } from './schemas.js';
import { EVENTS_SUPPORTED, POLL, PUSH } from './set.js';
import type { z } from 'zod';

export type StreamDeps = {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'issuer' | 'baseUrl' | 'outbound' | 'ssf'>;
  /** The key-encryption key: push Authorization headers are stored sealed with it. */
  sealingKey: Buffer;
  /** Starts delivery of what was queued now on this instance. */
  ssf: { wake(streamIds: string[]): void };
};

export const SSF_PREFIX = '/ssf';
export const STREAMS_PATH = `${SSF_PREFIX}/streams`;
export const STATUS_PATH = `${SSF_PREFIX}/status`;
export const VERIFY_PATH = `${SSF_PREFIX}/verify`;

export function pollUrl(config: Pick<Config, 'baseUrl'>, streamId: string): string {
  return `${config.baseUrl}${STREAMS_PATH}/${encodeURIComponent(streamId)}/poll`;
}

/** SSF 1.0 §8.1.1: a stream's configuration as the receiver reads it; never the push Authorization header. */
export interface StreamView {
  stream_id: string;
  iss: string;
  aud: string | string[];
  events_supported: string[];
  events_requested: string[];
  events_delivered: string[];
  delivery: { method: string; endpoint_url: string };
  description?: string;
}

export function viewStream(config: Pick<Config, 'issuer' | 'baseUrl'>, s: StreamRow): StreamView {
  return {
    stream_id: s.id,
    iss: config.issuer,
    aud: s.aud.length === 1 ? s.aud[0] : s.aud,
    events_supported: EVENTS_SUPPORTED,
    events_requested: s.eventsRequested,
    events_delivered: s.eventsDelivered,
    delivery: { method: s.deliveryMethod, endpoint_url: s.deliveryMethod === POLL ? pollUrl(config, s.id) : (s.endpointUrl ?? '') },
    ...(s.description !== null ? { description: s.description } : {}),
  };
}

/** A stream of this client, or 404 (another client's stream is as unknown as a missing one). */
export async function ownStream(deps: Pick<StreamDeps, 'db'>, clientId: string, streamId: string): Promise<StreamRow> {
  const s = await store.findStream(deps.db, streamId);
  if (!s || s.clientId !== clientId) throw new OAuthError('not_found', 'no such stream');
  return s;
}

type Delivery = z.output<typeof CreateStreamSchema>['delivery'];

/** The delivery columns of a stream; a push URL is checked now as it will be at each push. */
async function deliveryColumns(deps: StreamDeps, delivery: Delivery): Promise<Pick<StreamRow, 'deliveryMethod' | 'endpointUrl' | 'sealedAuthorizationHeader'>> {
  if (delivery.method === POLL) return { deliveryMethod: POLL, endpointUrl: null, sealedAuthorizationHeader: null };
  const checked = await checkPushEndpoint(delivery.endpoint_url, deps.config.outbound);
  if (!checked.ok) throw new OAuthError('invalid_request', 'delivery.endpoint_url: Grantor will not push there (an https URL of a public address is needed)', { detail: checked.reason });
  return {
    deliveryMethod: PUSH,
    endpointUrl: delivery.endpoint_url,
    sealedAuthorizationHeader: delivery.authorization_header !== undefined ? seal(deps.sealingKey, delivery.authorization_header) : null,
  };
}

/** `aud` names registered resources only (Grantor's extension of SSF 1.0 §8.1.1: the grants whose revocations the stream carries). */
async function checkAudience(deps: Pick<StreamDeps, 'db'>, aud: string | string[]): Promise<string[]> {
  const list = [...new Set(typeof aud === 'string' ? [aud] : aud)];
  for (const identifier of list) {
    if (!(await findResourceByIdentifier(deps.db, identifier))) throw new OAuthError('invalid_request', 'aud: no such resource');
  }
  return list;
}

/** SSF 1.0 §8.1.1: events_delivered = supported ∩ requested (all supported when none were requested). */
function delivered(requested: string[] | undefined): { eventsRequested: string[]; eventsDelivered: string[] } {
  if (requested === undefined) return { eventsRequested: EVENTS_SUPPORTED, eventsDelivered: EVENTS_SUPPORTED };
  const unique = [...new Set(requested)];
  return { eventsRequested: unique, eventsDelivered: EVENTS_SUPPORTED.filter((e) => unique.includes(e)) };
}

/** SSF 1.0 §8.1.1.1: creates a stream for the calling client, within the stream caps. */
export async function createStream(deps: StreamDeps, clientId: string, input: unknown): Promise<StreamView> {
  const body = validate(CreateStreamSchema, input);
  const aud = await checkAudience(deps, body.aud);
  const { maxStreamsPerClient, maxStreams } = deps.config.ssf;
  const now = deps.clock.now();
  const stream: StreamRow = {
    id: randomId(),
    clientId,
    aud,
    ...(await deliveryColumns(deps, body.delivery)),
    ...delivered(body.events_requested),
    description: body.description ?? null,
    status: 'enabled',
    reason: null,
    createdAt: now,
    updatedAt: now,
  };
  // Counted again with the insert, in one transaction: streams asked for at once never overshoot a cap.
  const full = await store.insertStreamWithinCaps(deps.db, stream, { perClient: maxStreamsPerClient, total: maxStreams });
  if (full === 'per_client') throw new OAuthError('conflict', `a client may have at most ${maxStreamsPerClient} streams`);
  if (full === 'total') throw new OAuthError('conflict', 'no more streams can be made');
  return viewStream(deps.config, stream);
}

/** SSF 1.0 §8.1.1.2: one stream, or (no stream_id) every stream of the client. */
export async function readStreams(deps: StreamDeps, clientId: string, query: unknown): Promise<StreamView | StreamView[]> {
  const { stream_id } = validate(StreamQuerySchema, query);
  if (stream_id !== undefined) return viewStream(deps.config, await ownStream(deps, clientId, stream_id));
  return (await store.listStreams(deps.db, clientId)).map((s) => viewStream(deps.config, s));
}

/** SSF 1.0 §8.1.1.3 (PATCH: the properties given) and §8.1.1.4 (PUT: all of them). */
export async function updateStream(deps: StreamDeps, clientId: string, input: unknown, replace: boolean): Promise<StreamView> {
  const body = replace ? validate(ReplaceStreamSchema, input) : validate(UpdateStreamSchema, input);
  const existing = await ownStream(deps, clientId, body.stream_id);
  const changes: Partial<StreamRow> = { updatedAt: deps.clock.now() };
  if (body.aud !== undefined) changes.aud = await checkAudience(deps, body.aud);
  if (body.delivery !== undefined) Object.assign(changes, await deliveryColumns(deps, body.delivery));
  if (body.events_requested !== undefined || replace) Object.assign(changes, delivered(body.events_requested));
  if (body.description !== undefined || replace) changes.description = body.description ?? null;
  await store.updateStream(deps.db, existing.id, changes);
  return viewStream(deps.config, { ...existing, ...changes });
}

/** SSF 1.0 §8.1.1.5: deletes the stream and every event it had not delivered. */
export async function deleteStream(deps: StreamDeps, clientId: string, query: unknown): Promise<void> {
  const { stream_id } = validate(StreamIdQuerySchema, query);
  await ownStream(deps, clientId, stream_id);
  await store.deleteStream(deps.db, stream_id);
}

export interface StatusView {
  stream_id: string;
  status: store.StreamStatus;
  reason?: string;
}

const viewStatus = (s: Pick<StreamRow, 'id' | 'status' | 'reason'>): StatusView => ({ stream_id: s.id, status: s.status, ...(s.reason !== null ? { reason: s.reason } : {}) });

/** SSF 1.0 §8.1.2.1. */
export async function readStatus(deps: StreamDeps, clientId: string, query: unknown): Promise<StatusView> {
  const { stream_id } = validate(StreamIdQuerySchema, query);
  return viewStatus(await ownStream(deps, clientId, stream_id));
}

/**
 * SSF 1.0 §8.1.2.2: `enabled` delivers; `paused` holds new events until enabled again; `disabled`
 * queues nothing and drops what was held.
 */
export async function updateStatus(deps: StreamDeps, clientId: string, input: unknown): Promise<StatusView> {
  const body = validate(UpdateStatusSchema, input);
  const existing = await ownStream(deps, clientId, body.stream_id);
  const changes = { status: body.status, reason: body.reason ?? null, updatedAt: deps.clock.now() };
  await store.updateStream(deps.db, existing.id, changes);
  if (body.status === 'disabled') await store.dropEvents(deps.db, existing.id);
  if (body.status === 'enabled') deps.ssf.wake([existing.id]);
  return viewStatus({ ...existing, ...changes });
}

/** Undelivered verification events one stream may hold; one more request is answered 429. */
export const MAX_PENDING_VERIFICATIONS = 10;

/** SSF 1.0 §8.1.4.2: queues a verification event on the stream; delivered like any other event. */
export async function requestVerification(deps: StreamDeps, clientId: string, input: unknown): Promise<void> {
  const body = validate(VerificationSchema, input);
  const stream = await ownStream(deps, clientId, body.stream_id);
  // SSF 1.0 §8.1.4.1: the verification event is always delivered; a disabled stream delivers nothing.
  if (stream.status === 'disabled') throw new OAuthError('invalid_request', 'the stream is disabled');
  // SSF 1.0 §8.1.4.2 lets a transmitter refuse verification requests that come too often (429):
  // here, while the stream already holds MAX_PENDING_VERIFICATIONS undelivered ones.
  if ((await pendingVerifications(deps.db, stream.id)) >= MAX_PENDING_VERIFICATIONS) throw new OAuthError('rate_limited', 'too many verification events wait to be delivered on this stream');
  await queueEvent(deps.db, stream.id, { type: 'verification', streamId: stream.id, ...(body.state !== undefined ? { state: body.state } : {}), at: deps.clock.now() });
  deps.ssf.wake([stream.id]);
}

import { z } from 'zod';
import { resourceIdentifier } from '../registry/schemas.js';
import { POLL, PUSH } from './set.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const text = (max: number) => z.string().max(max).refine((v) => !CONTROL.test(v), 'must not contain control characters');
const streamId = z.string().min(1).max(64).describe('The stream\'s identifier (SSF 1.0 §8.1.1).');

export const DeliverySchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal(POLL), endpoint_url: z.string().max(2048).optional().describe('Ignored: Grantor names the poll URL.') }),
  z.object({
    method: z.literal(PUSH),
    endpoint_url: z.string().min(1).max(2048).describe('The receiver\'s https URL (RFC 8935 §2).'),
    authorization_header: text(4096).optional().describe('Sent back as the Authorization header of every push; stored sealed, never returned.'),
  }),
]);

const audience = z.union([resourceIdentifier, z.array(resourceIdentifier).min(1).max(20)]).describe('Resource identifier(s) whose grants\' revocations the stream receives.');
const eventsRequested = z.array(z.string().min(1).max(512)).max(20).describe('Event type URIs wanted; unsupported ones are ignored.');

/** SSF 1.0 §8.1.1.1: what a receiver sends to create a stream (transmitter-supplied properties are ignored). */
export const CreateStreamSchema = z.object({
  delivery: DeliverySchema,
  events_requested: eventsRequested.optional(),
  description: text(1000).optional(),
  aud: audience,
});

/** SSF 1.0 §8.1.1.3: PATCH changes the properties given. */
export const UpdateStreamSchema = z.object({
  stream_id: streamId,
  delivery: DeliverySchema.optional(),
  events_requested: eventsRequested.optional(),
  description: text(1000).optional(),
  aud: audience.optional(),
});

/** SSF 1.0 §8.1.1.4: PUT replaces every receiver-supplied property. */
export const ReplaceStreamSchema = CreateStreamSchema.extend({ stream_id: streamId });

export const StreamQuerySchema = z.object({ stream_id: streamId.optional() });
export const StreamIdQuerySchema = z.object({ stream_id: streamId });

/** SSF 1.0 §8.1.2.2. */
export const UpdateStatusSchema = z.object({
  stream_id: streamId,
  status: z.enum(['enabled', 'paused', 'disabled']),
  reason: text(1000).optional(),
});

/** SSF 1.0 §8.1.4.2. */
export const VerificationSchema = z.object({ stream_id: streamId, state: text(1000).optional() });

/** RFC 8936 §2.4: a poll request. `maxEvents` above the transmitter's cap is lowered to it (§2.4.1 lets it return fewer). */
export const PollSchema = z.object({
  maxEvents: z.number().int().min(0).optional(),
  returnImmediately: z.boolean().optional(),
  ack: z.array(z.string().min(1).max(256)).max(1000).optional(),
  setErrs: z.record(z.string().min(1).max(256), z.object({ err: z.string().max(256), description: z.string().max(1000).optional() })).optional(),
});

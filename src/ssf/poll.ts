import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { OAuthError } from '../errors.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../lib/clock.js';
import { validate } from '../lib/validate.js';
import type { Db } from '../store/db.js';
import { pendingEvents, removeEvents } from '../store/ssf-events.js';
import type { Dispatcher } from './dispatcher.js';
import { PollSchema } from './schemas.js';
import { POLL, setClaims, signSet } from './set.js';
import { ownStream } from './streams.js';

export type PollDeps = {
  db: Db;
  clock: Clock;
  keyRing: KeyRing;
  logger: Logger;
  config: Pick<Config, 'issuer' | 'ssf'>;
  dispatcher: Pick<Dispatcher, 'watch' | 'stopped'>;
};

/** Most SETs one poll answers with (RFC 8936 §2.4.1: the transmitter may return fewer than maxEvents). */
export const MAX_EVENTS = 100;

export interface PollAnswer {
  sets: Record<string, string>;
  moreAvailable?: boolean;
}

/**
 * RFC 8936 §2.4: one poll of a stream of the caller's.
 * 1. Acknowledgements first (§2.4.2), and `setErrs` (§2.4.3, logged): both remove those events
 *    of this stream only; a jti of another stream or one already removed changes nothing.
 * 2. Up to `maxEvents` (at most 100; 0: acknowledge only) undelivered events, oldest first, each a
 *    SET signed now. Unacknowledged events are delivered again at every poll (at-least-once); two
 *    polls of one stream at the same time may both receive the same events.
 * 3. None pending and `returnImmediately` not true: the request is held (holding no database
 *    connection) until an event is queued for the stream, SSF_LONG_POLL_TIMEOUT passes, the client
 *    goes away or the server stops; then `{ sets: {} }`. A paused stream holds its events.
 */
export async function pollStream(deps: PollDeps, clientId: string, streamId: string, input: unknown, signal?: AbortSignal): Promise<PollAnswer> {
  const body = validate(PollSchema, input ?? {});
  const stream = await ownStream(deps, clientId, streamId);
  if (stream.deliveryMethod !== POLL) throw new OAuthError('invalid_request', 'this stream delivers by push, not poll');
  const acked = [...(body.ack ?? []), ...Object.keys(body.setErrs ?? {})];
  if (acked.length) await removeEvents(deps.db, stream.id, acked);
  for (const [jti, e] of Object.entries(body.setErrs ?? {})) deps.logger.warn({ stream_id: stream.id, jti, err: e.err, description: e.description }, 'poll: the receiver reported a SET error');

  const max = Math.min(body.maxEvents ?? MAX_EVENTS, MAX_EVENTS);
  if (max === 0) return { sets: {} };
  const deadline = Date.now() + deps.config.ssf.longPollTimeoutMs;
  for (;;) {
    // A client gone, or a server stopping after a wait, gets nothing more from the database (which
    // may be closing under the request); what is pending stays queued for the next poll.
    if (signal?.aborted) return { sets: {} };
    // Watched before the reads: an event committed while they run wakes this poll, never lost.
    const watch = deps.dispatcher.watch(stream.id);
    try {
      const current = await ownStream(deps, clientId, streamId);
      if (current.status === 'enabled') {
        const events = await pendingEvents(deps.db, stream.id, max + 1);
        if (events.length > 0) {
          const now = deps.clock.now();
          const sets: Record<string, string> = {};
          for (const e of events.slice(0, max)) sets[e.jti] = await signSet(deps.keyRing, setClaims(e.facts, { issuer: deps.config.issuer, aud: current.aud, jti: e.jti, now }));
          return { sets, moreAvailable: events.length > max };
        }
      }
      const left = deadline - Date.now();
      if (body.returnImmediately === true || left <= 0 || deps.dispatcher.stopped() || signal?.aborted) return { sets: {} };
      if (current.status === 'enabled') await watch.wait(left, signal);
      // A paused stream's poll ignores wake-ups and waits out its time (the status is read again then).
      else await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        signal?.addEventListener('abort', () => (clearTimeout(t), resolve()));
      });
    } finally {
      watch.close();
    }
    if (deps.dispatcher.stopped()) return { sets: {} };
  }
}

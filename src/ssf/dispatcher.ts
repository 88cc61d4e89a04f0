import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import { unseal } from '../keys/sealing.js';
import type { Clock } from '../lib/clock.js';
import { randomId } from '../lib/random.js';
import { postSet } from '../outbound/post-set.js';
import type { Db } from '../store/db.js';
import { duePushEvents, leaseEvent, removeLeasedEvent, retryEventLater, streamsWithEvents, type DuePush } from '../store/ssf-events.js';
import { pushStreamsExist } from '../store/ssf-streams.js';
import { PUSH, setClaims, signSet } from './set.js';

export type DispatcherDeps = {
  db: Db;
  clock: Clock;
  keyRing: KeyRing;
  logger: Logger;
  config: Pick<Config, 'issuer' | 'outbound' | 'ssf'>;
  sealingKey: Buffer;
};

/**
 * Each instance's event deliverer: it wakes the long polls it holds and pushes to receivers.
 * - `wake(streamIds)`: events were queued on this instance (after the revoking transaction
 *   committed): its waiting polls answer and a push starts now, without a timer.
 * - Events queued on other instances are found by a look at the database every
 *   SSF_CHECK_INTERVAL — only while this instance holds a long poll (an indexed read of the
 *   waiting streams' events) or push streams exist (the due push events).
 * - Every push takes a lease on its event first (a conditional UPDATE), so two instances never
 *   push one event at once; a push that gets no 2xx (or 400) is retried with backoff.
 */
export interface Dispatcher {
  wake(streamIds: string[]): void;
  /**
   * Starts watching a stream, before a poll reads its events: a wake that comes while the read is
   * under way (an event committed after the read began) is kept, and the poll's wait ends at once
   * and reads again, rather than holding until its timeout with an event queued.
   */
  watch(streamId: string): Watch;
  /** Releases every waiting poll and stops the timers (shutdown). */
  stop(): void;
  /** Whether stop() was called: a poll then answers at once. */
  stopped(): boolean;
  /** Runs one look at the database now (tests; and the timer). */
  check(): Promise<void>;
}

/** A poll's watch on one stream (Dispatcher.watch). */
export interface Watch {
  /**
   * Resolves when the stream may have events (at once if it was woken since the watch began),
   * after `ms`, on `signal`'s abort, or when the dispatcher stops.
   */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
  /** Ends the watch (in a `finally`: a poll that answers without waiting ends it too). */
  close(): void;
}

/** A push attempt holds its event this long (seconds): past the outbound time limit, with margin. */
const LEASE_SECONDS = 60;
/** Push events claimed per round. */
const PUSH_BATCH = 50;
/** Whether push streams exist is re-read this often (ms), besides when this instance makes one. */
const PUSH_STREAMS_RECHECK_MS = 5000;

/** RFC 8935 §2.3 leaves retries to the transmitter: exponential from 1 s, capped, with jitter (½–1 of the step). */
export function retryDelay(attempts: number, cap: number, random = Math.random): number {
  const step = Math.min(cap, 2 ** Math.min(attempts - 1, 30));
  return Math.max(1, Math.ceil(step * (0.5 + random() / 2)));
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const owner = randomId();
  /** The watches of each stream watched on this instance: its polls reading or waiting. */
  const waiters = new Map<string, Set<{ wake(): void }>>();
  let isStopped = false;
  let hasPushStreams = true; // until the first look says otherwise
  let pushStreamsCheckedAt = 0;
  let pushing = false;
  let pushAgain = false;
  let checking = false;

  const release = (streamId: string) => {
    const set = waiters.get(streamId);
    if (!set) return;
    waiters.delete(streamId);
    for (const watch of set) watch.wake();
  };

  async function pushRound(): Promise<void> {
    if (isStopped) return;
    if (pushing) {
      pushAgain = true;
      return;
    }
    pushing = true;
    try {
      do {
        pushAgain = false;
        const due = await duePushEvents(deps.db, PUSH, deps.clock.now(), PUSH_BATCH);
        await Promise.all(due.map(pushOne));
        if (due.length === PUSH_BATCH) pushAgain = true;
      } while (pushAgain && !isStopped);
    } finally {
      pushing = false;
    }
  }

  async function pushOne(event: DuePush): Promise<void> {
    const now = deps.clock.now();
    if (!(await leaseEvent(deps.db, event.id, owner, now, now + LEASE_SECONDS))) return;
    const log = { stream_id: event.streamId, jti: event.jti, attempt: event.attempts + 1 };
    let authorization: string | undefined;
    try {
      authorization = event.sealedAuthorizationHeader ? unseal(deps.sealingKey, event.sealedAuthorizationHeader) : undefined;
    } catch {
      deps.logger.error(log, 'push: the stream\'s authorization header cannot be unsealed (KEY_ENCRYPTION_SECRET differs between instances?)');
      return retry(event, now);
    }
    const set = await signSet(deps.keyRing, setClaims(event.facts, { issuer: deps.config.issuer, aud: event.aud, jti: event.jti, now }));
    const outcome = await postSet(event.endpointUrl, set, { ...deps.config.outbound, authorization });
    if (outcome.answered && outcome.status >= 200 && outcome.status < 300) {
      await removeLeasedEvent(deps.db, event.id, owner);
      return;
    }
    if (outcome.answered && outcome.status === 400) {
      // RFC 8935 §2.3: the receiver refused this SET; sending it again would be refused again.
      deps.logger.warn({ ...log, answer: outcome.body.slice(0, 500) }, 'push: the receiver refused the SET (400); dropped');
      await removeLeasedEvent(deps.db, event.id, owner);
      return;
    }
    deps.logger.info({ ...log, outcome: outcome.answered ? `status ${outcome.status}` : outcome.reason }, 'push failed; will retry');
    await retry(event, now);
  }

  async function retry(event: DuePush, now: number): Promise<void> {
    const delay = retryDelay(event.attempts + 1, deps.config.ssf.pushRetryMax);
    await retryEventLater(deps.db, event.id, owner, event.attempts + 1, now + delay);
    // The timer looks again while push streams exist; this makes the retry prompt even between looks.
    setTimeout(() => void pushRound().catch(logFailure), delay * 1000 + 50).unref();
  }

  const logFailure = (err: unknown) => deps.logger.error({ err }, 'event delivery failed');

  async function check(): Promise<void> {
    if (checking || isStopped) return;
    checking = true;
    try {
      if (waiters.size > 0) for (const id of await streamsWithEvents(deps.db, [...waiters.keys()])) release(id);
      if (Date.now() - pushStreamsCheckedAt > PUSH_STREAMS_RECHECK_MS) {
        hasPushStreams = await pushStreamsExist(deps.db, PUSH);
        pushStreamsCheckedAt = Date.now();
      }
      if (hasPushStreams) await pushRound();
    } finally {
      checking = false;
    }
  }

  const timer = setInterval(() => void check().catch(logFailure), deps.config.ssf.checkIntervalMs);
  timer.unref();

  return {
    wake(streamIds) {
      for (const id of streamIds) release(id);
      if (isStopped) return;
      void pushRound().catch(logFailure);
    },
    watch(streamId) {
      let woken = false;
      let resolveWait: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      let abortSignal: AbortSignal | undefined;
      const endWait = () => {
        const resolve = resolveWait;
        if (!resolve) return;
        resolveWait = undefined;
        clearTimeout(timer);
        abortSignal?.removeEventListener('abort', endWait);
        resolve();
      };
      const watcher = {
        wake() {
          woken = true;
          endWait();
        },
      };
      let set = waiters.get(streamId);
      if (!set) waiters.set(streamId, (set = new Set()));
      set.add(watcher);
      return {
        wait(ms, signal) {
          if (woken || isStopped || signal?.aborted) return Promise.resolve();
          return new Promise<void>((resolve) => {
            resolveWait = resolve;
            timer = setTimeout(endWait, ms);
            abortSignal = signal;
            signal?.addEventListener('abort', endWait);
          });
        },
        close() {
          endWait();
          const s = waiters.get(streamId);
          s?.delete(watcher);
          if (s && s.size === 0) waiters.delete(streamId);
        },
      };
    },
    stop() {
      isStopped = true;
      clearInterval(timer);
      for (const id of [...waiters.keys()]) release(id);
    },
    stopped: () => isStopped,
    check,
  };
}

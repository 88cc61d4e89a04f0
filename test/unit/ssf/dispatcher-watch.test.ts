/**
 * A poll's watch on its stream (src/ssf/dispatcher.ts): it starts before the poll reads the stream's
 * events, so an event committed while that read runs — its wake-up arriving before the poll waits —
 * ends the wait at once. Waiting only after the read lost that wake-up: the poll held until its
 * timeout with the event queued (seen once in CI, test/e2e/ssf-poll.test.ts on PostgreSQL).
 */
import type { Logger } from 'pino';
import { createDispatcher, type Dispatcher } from '../../../src/ssf/dispatcher.js';
import type { Db } from '../../../src/store/db.js';

function dispatcher(): Dispatcher {
  // No database: the look every SSF_CHECK_INTERVAL never comes within a test, and the push round a
  // wake-up starts fails at its first query, which the dispatcher logs.
  const db = (() => {
    throw new Error('no database in this test');
  }) as unknown as Db;
  return createDispatcher({
    db,
    clock: { now: () => Math.floor(Date.now() / 1000) },
    keyRing: {} as never,
    logger: { error() {}, warn() {}, info() {} } as unknown as Logger,
    config: { issuer: 'https://auth.example.com', outbound: {} as never, ssf: { longPollTimeoutMs: 30_000, checkIntervalMs: 3_600_000, pushRetryMax: 300, maxStreamsPerClient: 10, maxStreams: 100 } },
    sealingKey: Buffer.alloc(32),
  });
}

const waited = async (wait: Promise<void>) => {
  const start = Date.now();
  await wait;
  return Date.now() - start;
};

describe('a poll\'s watch on its stream', () => {
  let d: Dispatcher;
  beforeEach(() => {
    d = dispatcher();
  });
  afterEach(() => d.stop());

  it('keeps a wake-up that came between the start of the watch and the wait (the read in between)', async () => {
    const watch = d.watch('stream-1');
    d.wake(['stream-1']); // an event committed while the poll was reading
    expect(await waited(watch.wait(10_000))).toBeLessThan(1000);
    watch.close();
  });

  it('ends a wait when the stream is woken, not when another one is', async () => {
    const watch = d.watch('stream-1');
    const wait = watch.wait(10_000);
    setTimeout(() => d.wake(['stream-2']), 20);
    setTimeout(() => d.wake(['stream-1']), 150);
    const ms = await waited(wait);
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(1000);
    watch.close();
  });

  it('waits out its time when nothing comes, and a wake-up after the watch closed changes nothing', async () => {
    const watch = d.watch('stream-1');
    expect(await waited(watch.wait(100))).toBeGreaterThanOrEqual(90);
    watch.close();
    d.wake(['stream-1']);
    const next = d.watch('stream-1');
    expect(await waited(next.wait(100))).toBeGreaterThanOrEqual(90);
    next.close();
  });

  it('ends at once on its signal\'s abort and when the dispatcher stops', async () => {
    const aborted = new AbortController();
    const watch = d.watch('stream-1');
    const wait = watch.wait(10_000, aborted.signal);
    setTimeout(() => aborted.abort(), 20);
    expect(await waited(wait)).toBeLessThan(1000);
    watch.close();

    const held = d.watch('stream-1');
    const holding = held.wait(10_000);
    setTimeout(() => d.stop(), 20);
    expect(await waited(holding)).toBeLessThan(1000);
    held.close();
    const late = d.watch('stream-1');
    expect(await waited(late.wait(10_000))).toBeLessThan(1000);
    late.close();
  });
});

/**
 * lib/batcher.ts: the group commit's and the grouped read's batching (issue #14 item 2).
 */
import { createBatcher } from '../../src/lib/batcher.js';

/** A batcher whose batches wait until released, recording each batch. */
function recorded(options: { inFlightAtMost: number; maxBatch: number; fail?: (item: number) => boolean }) {
  const batches: number[][] = [];
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const batcher = createBatcher<number, number>({
    ...options,
    async run(items) {
      batches.push(items);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      if (options.fail && items.some(options.fail)) throw new Error('batch failed');
      return items.map((i) => i * 10);
    },
  });
  /** Lets every batch end, those started by the ending of others (on the next turn) included. */
  const releaseAll = async () => {
    for (;;) {
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      if (waiting.length === 0) return;
      waiting.splice(0).forEach((go) => go());
    }
  };
  /** Lets the batches in flight end now. */
  const release = () => waiting.splice(0).forEach((go) => go());
  return { batcher, batches, release, releaseAll, mostInFlight: () => mostInFlight };
}

describe('batcher', () => {
  it('runs calls of one turn in one batch, and calls made while it is in flight in the next', async () => {
    const r = recorded({ inFlightAtMost: 1, maxBatch: 100 });
    const first = [1, 2, 3].map((i) => r.batcher.run(i));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [4, 5].map((i) => r.batcher.run(i));
    await r.releaseAll();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(r.batches).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('starts the next batch on the turn after one ends: calls whose I/O completed meanwhile join it', async () => {
    const r = recorded({ inFlightAtMost: 1, maxBatch: 100 });
    const first = r.batcher.run(1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = r.batcher.run(2);
    // A callback already due when the batch in flight ends (as a read answered by the thread pool
    // in the same turn would be) asks for its call after that end, and still joins the next batch.
    const third = new Promise<number>((resolve) => setImmediate(() => resolve(r.batcher.run(3))));
    r.release();
    await r.releaseAll();
    expect(await Promise.all([first, second, third])).toEqual([10, 20, 30]);
    expect(r.batches).toEqual([[1], [2, 3]]);
  });

  it('never has more batches in flight than allowed, nor more items in a batch', async () => {
    const r = recorded({ inFlightAtMost: 2, maxBatch: 3 });
    const all = Array.from({ length: 10 }, (_, i) => r.batcher.run(i));
    await r.releaseAll();
    expect(await Promise.all(all)).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(r.batches).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(r.mostInFlight()).toBe(2);
  });

  it('fails only the failing item of a failed batch: the others are run again alone and answered', async () => {
    const r = recorded({ inFlightAtMost: 1, maxBatch: 100, fail: (i) => i === 2 });
    const all = [1, 2, 3].map((i) => r.batcher.run(i).then((v) => ({ ok: v }), (e: Error) => ({ err: e.message })));
    await r.releaseAll();
    expect(await Promise.all(all)).toEqual([{ ok: 10 }, { err: 'batch failed' }, { ok: 30 }]);
    expect(r.batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});

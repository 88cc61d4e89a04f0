import { sharedFreshReads } from '../../src/lib/fresh-reads.js';

/** A store whose reads the test finishes by hand; each read sees the value at the moment it began. */
function slowStore() {
  let value = 0;
  const pending: Array<() => void> = [];
  let reads = 0;
  const read = (_key: string) => {
    reads++;
    const seen = value;
    return new Promise<number>((resolve) => pending.push(() => resolve(seen)));
  };
  return {
    read,
    set: (v: number) => void (value = v),
    reads: () => reads,
    /** Finishes the reads begun so far. */
    finish: async () => {
      for (const f of pending.splice(0)) f();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('sharedFreshReads(): shared reads that never answer from before the call', () => {
  it('never gives a caller a read that began before it asked (a revocation committed before the call is seen)', async () => {
    const store = slowStore();
    const fresh = sharedFreshReads(store.read);
    const early = fresh('g');
    store.set(1); // committed after `early` began reading, before `late` asked
    const late = fresh('g');
    await store.finish();
    expect(await early).toBe(0);
    await store.finish();
    expect(await late).toBe(1);
  });

  it('lets every caller arriving during one read share the next read: N callers, two reads', async () => {
    const store = slowStore();
    const fresh = sharedFreshReads(store.read);
    const first = fresh('g');
    const others = Array.from({ length: 50 }, () => fresh('g'));
    await store.finish();
    await store.finish();
    expect(await first).toBe(0);
    expect(await Promise.all(others)).toEqual(Array(50).fill(0));
    expect(store.reads()).toBe(2);
  });

  it('reads each key on its own, and reads again once idle', async () => {
    const store = slowStore();
    const fresh = sharedFreshReads(store.read);
    const a = fresh('a');
    const b = fresh('b');
    await store.finish();
    await Promise.all([a, b]);
    expect(store.reads()).toBe(2);
    const again = fresh('a');
    await store.finish();
    await again;
    expect(store.reads()).toBe(3);
  });

  it('passes a failed read to its callers and reads afresh for the next', async () => {
    let fail = true;
    const fresh = sharedFreshReads(async (k: string) => {
      if (fail) throw new Error('busy');
      return k;
    });
    await expect(fresh('x')).rejects.toThrow('busy');
    fail = false;
    await expect(fresh('x')).resolves.toBe('x');
  });
  it('spaces the reads of a key at least minGapMs apart: callers within the gap share the one read at its end', async () => {
    const starts: number[] = [];
    const fresh = sharedFreshReads(async (_key: string) => starts.push(Date.now()), { minGapMs: 40 });
    expect(await fresh('list')).toBe(1);
    const asked = Date.now();
    // A flood within the gap: one more read, not three, and it begins after every caller asked.
    expect(await Promise.all([fresh('list'), fresh('list'), fresh('list')])).toEqual([2, 2, 2]);
    expect(starts).toHaveLength(2);
    expect(starts[1]).toBeGreaterThanOrEqual(asked);
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(39); // timers may round down by a millisecond
  });
});

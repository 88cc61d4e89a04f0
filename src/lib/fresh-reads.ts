/**
 * Shares reads among concurrent callers without ever answering from the past: every caller gets
 * the result of a read that began after it asked. A caller arriving while a read of its key runs
 * does not join that one (it may have begun before a change the caller must see); it joins the one
 * queued to begin when the running read ends, which every caller arriving meanwhile shares. Under
 * load, N concurrent callers of one key cost about two reads instead of N; alone, a caller costs
 * one read, as before.
 *
 * `minGapMs` spaces the reads of one key at least that far apart: a caller arriving sooner joins
 * the read queued for the end of the gap, so a flood of callers, however large, costs one read per
 * gap and each waits at most the gap (plus one read). With a gap, a key's slot is kept after its
 * read ends (to remember when it began): use it for a few keys.
 *
 * @example
 * const grantNow = sharedFreshReads((id: string) => findGrant(db, id));
 * const grant = await grantNow(grantId); // a revocation committed before this call is seen
 */
export function sharedFreshReads<K, V>(read: (key: K) => Promise<V>, opts: { minGapMs?: number } = {}): (key: K) => Promise<V> {
  type Slot = { running: Promise<V> | undefined; queued: Promise<V> | undefined; startedAt: number };
  const gap = opts.minGapMs ?? 0;
  const slots = new Map<K, Slot>();
  const ignore = () => undefined;

  function start(key: K, slot: Slot): Promise<V> {
    const reading = read(key);
    slot.running = reading;
    slot.queued = undefined;
    slot.startedAt = Date.now();
    const done = () => {
      if (slot.running !== reading) return;
      slot.running = undefined;
      if (gap === 0 && !slot.queued && slots.get(key) === slot) slots.delete(key);
    };
    reading.then(done, done);
    return reading;
  }

  return function freshRead(key: K): Promise<V> {
    let slot = slots.get(key);
    if (!slot) {
      slot = { running: undefined, queued: undefined, startedAt: -Infinity };
      slots.set(key, slot);
    }
    if (!slot.running && !slot.queued && Date.now() - slot.startedAt >= gap) return start(key, slot);
    const s = slot;
    s.queued ??= (async () => {
      await s.running?.then(ignore, ignore);
      const wait = s.startedAt + gap - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return start(key, s);
    })();
    return s.queued;
  };
}

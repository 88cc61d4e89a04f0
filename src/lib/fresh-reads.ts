/**
 * Shares reads among concurrent callers without ever answering from the past: every caller gets
 * the result of a read that began after it asked. A caller arriving while a read of its key runs
 * does not join that one (it may have begun before a change the caller must see); it joins the one
 * queued to begin when the running read ends, which every caller arriving meanwhile shares. Under
 * load, N concurrent callers of one key cost about two reads instead of N; alone, a caller costs
 * one read, as before.
 *
 * @example
 * const grantNow = sharedFreshReads((id: string) => findGrant(db, id));
 * const grant = await grantNow(grantId); // a revocation committed before this call is seen
 */
export function sharedFreshReads<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  type Slot = { running: Promise<V> | undefined; queued: Promise<V> | undefined };
  const slots = new Map<K, Slot>();
  const ignore = () => undefined;

  function start(key: K, slot: Slot): Promise<V> {
    const reading = read(key);
    slot.running = reading;
    slot.queued = undefined;
    const done = () => {
      if (slot.running !== reading) return;
      slot.running = undefined;
      if (!slot.queued && slots.get(key) === slot) slots.delete(key);
    };
    reading.then(done, done);
    return reading;
  }

  return function freshRead(key: K): Promise<V> {
    let slot = slots.get(key);
    if (!slot) {
      slot = { running: undefined, queued: undefined };
      slots.set(key, slot);
    }
    const { running } = slot;
    if (!running) return start(key, slot);
    const s = slot;
    s.queued ??= running.then(ignore, ignore).then(() => start(key, s));
    return s.queued;
  };
}

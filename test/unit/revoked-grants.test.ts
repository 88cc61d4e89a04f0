import { RevokedGrants } from '../../src/resource-server/revoked-grants.js';

describe('the revoked-grant set of the resource-server module (bounded memory)', () => {
  it('remembers a grant for the retention period, then forgets it', () => {
    const set = new RevokedGrants(60, 10);
    set.add('g1', 1000);
    expect(set.has('g1', 1059)).toBe(true);
    expect(set.has('g1', 1060)).toBe(false);
    expect(set.has('g2', 1000)).toBe(false);
  });

  it('keeps at most max grants, dropping the oldest first', () => {
    const set = new RevokedGrants(60, 3);
    for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) set.add(id, 1000 + i);
    expect(set.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((id) => set.has(id, 1004))).toEqual([false, true, true, true]);
  });

  it('sweeps expired grants as it grows, so memory follows the revocations of the retention period', () => {
    const set = new RevokedGrants(10, 1_000_000);
    for (let i = 0; i < 5000; i++) set.add(`g${i}`, i); // one a second: about 10 alive at any time
    expect(set.size).toBeLessThan(2100);
  });
});

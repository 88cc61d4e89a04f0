import type { KeyRing, KeyState, SigningKey } from './key-ring.js';

/** A key as admins see it: its public part and its lifecycle, never the private key. */
export interface KeyView {
  kid: string;
  alg: string;
  state: KeyState;
  created_at: number;
  activates_at: number;
  removes_at: number | null;
}

export const viewKey = (k: SigningKey & { state: KeyState }): KeyView => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt,
  activates_at: k.activatesAt,
  removes_at: k.removesAt,
});

export function listKeys(ring: KeyRing): { items: KeyView[] } {
  return { items: ring.keys().map(viewKey) };
}

/** Rotation from the admin API or the CLI: returns the new key (state `next`). */
export async function rotate(ring: KeyRing, rotateKeys: () => Promise<SigningKey>): Promise<KeyView> {
  const made = await rotateKeys();
  return viewKey(ring.keys().find((k) => k.kid === made.kid) ?? { ...made, state: 'next' });
}

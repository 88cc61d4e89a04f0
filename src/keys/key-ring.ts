import { createPrivateKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type CryptoKey } from 'jose';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { claimKeysEpoch, insertSigningKey, keysEpoch, liveSigningKeys, scheduleRemovalBefore, type SigningKeyRow } from '../store/signing-keys.js';
import { loadKeyEncryptionKey, seal, unseal } from './sealing.js';

/** A published verification key: only the public members of RFC 7517/7518. */
export interface PublicJwk {
  kty: 'RSA';
  kid: string;
  use: 'sig';
  alg: 'RS256';
  n: string;
  e: string;
}

export interface SigningKey {
  kid: string;
  alg: 'RS256';
  privateKey: CryptoKey;
  /** The same key for node:crypto's callback sign(), the cheapest way to sign off the event loop. */
  keyObject: KeyObject;
  createdAt: number;
  /** When it starts signing: at least the JWKS cache lifetime after it was first published. */
  activatesAt: number;
  /** When it leaves the JWKS: after the last token it signed has expired (null while it is the newest). */
  removesAt: number | null;
  jwk: PublicJwk;
}

export type KeyState = 'next' | 'active' | 'retired';

export interface KeyRing {
  /** The key that signs now: the one activated last. */
  signingKey(): SigningKey;
  /** A key of the ring by its kid, if it is still there. */
  findKey(kid: string): SigningKey | undefined;
  /** Every published key (next, active, retired), for the JWKS document. */
  publicJwks(): PublicJwk[];
  /** A jose key resolver over the published keys, made once per key set (imported keys are cached in it). */
  verificationKeys(): ReturnType<typeof createLocalJWKSet>;
  /** Every key with its state now. */
  keys(): Array<SigningKey & { state: KeyState }>;
  /** Reloads from the database when another instance (or the CLI) rotated. */
  refresh(): Promise<void>;
}

export type KeyRingDeps = {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'keysDir' | 'keyEncryptionSecret' | 'keyPublicationDelay' | 'keyRetention'>;
};

/**
 * The key ring, shared by every instance through the database: keys move next → active → retired →
 * removed by their times alone, so instances agree without talking to each other. Makes the first
 * key (active at once: nobody can have cached a JWKS yet) when the database has none.
 */
export async function openKeyRing(deps: KeyRingDeps): Promise<{ ring: KeyRing; generated: boolean; encryption: string; rotate(): Promise<SigningKey> }> {
  const kek = await loadKeyEncryptionKey({ secret: deps.config.keyEncryptionSecret, keysDir: deps.config.keysDir });
  let loaded: SigningKey[] = [];
  let epoch = -1;
  let generated = false;

  async function reload(): Promise<void> {
    const seen = await keysEpoch(deps.db);
    if (seen === epoch) return;
    const rows = await liveSigningKeys(deps.db, deps.clock.now());
    loaded = await Promise.all(rows.map((row) => openKey(kek.key, row)));
    epoch = seen;
  }

  await reload();
  if (loaded.length === 0) {
    const first = await createKey(deps, kek.key, { activateNow: true });
    generated = first !== undefined;
    epoch = -1;
    await reload();
  }
  if (loaded.length === 0) throw new Error('no signing key could be loaded');

  const published = (now: number) => loaded.filter((k) => k.removesAt === null || k.removesAt > now);
  let resolver: { kids: string; keys: ReturnType<typeof createLocalJWKSet> } | undefined;
  const ring: KeyRing = {
    signingKey() {
      const now = deps.clock.now();
      let active = loaded[0];
      for (const k of loaded) if (k.activatesAt <= now) active = k;
      return active;
    },
    findKey: (kid) => loaded.find((k) => k.kid === kid),
    publicJwks: () => published(deps.clock.now()).map((k) => k.jwk),
    verificationKeys() {
      const jwks = ring.publicJwks();
      const kids = jwks.map((k) => k.kid).join(' ');
      if (resolver?.kids !== kids) resolver = { kids, keys: createLocalJWKSet({ keys: jwks }) };
      return resolver.keys;
    },
    keys() {
      const now = deps.clock.now();
      const active = ring.signingKey();
      return published(now).map((k) => ({ ...k, state: k === active ? 'active' : k.activatesAt > now ? 'next' : 'retired' }));
    },
    refresh: reload,
  };
  return {
    ring,
    generated,
    encryption: kek.source,
    async rotate() {
      const made = await createKey(deps, kek.key, { activateNow: false });
      epoch = -1;
      await reload();
      if (!made) throw new Error('another rotation happened at the same moment; try again');
      return loaded.find((k) => k.kid === made)!;
    },
  };
}

/**
 * Makes an RSA-2048 key that is published now and signs after the publication delay (or at once
 * for the very first key); the keys it supersedes are scheduled for removal once every token they
 * signed has expired. Returns its kid, or undefined when another instance claimed the rotation.
 */
async function createKey(deps: KeyRingDeps, kek: Buffer, opts: { activateNow: boolean }): Promise<string | undefined> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256'); // RFC 7638: stable and unique per key
  const publicJwk: PublicJwk = { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: jwk.n!, e: jwk.e! };
  const sealed = seal(kek, await exportPKCS8(privateKey));
  const now = deps.clock.now();
  const activatesAt = opts.activateNow ? now : now + deps.config.keyPublicationDelay;
  return deps.db.transaction(async (trx) => {
    const seen = await keysEpoch(trx);
    if (opts.activateNow && (await liveSigningKeys(trx, now)).length > 0) return undefined;
    if (!(await claimKeysEpoch(trx, seen))) return undefined;
    await scheduleRemovalBefore(trx, activatesAt, activatesAt + deps.config.keyRetention);
    await insertSigningKey(trx, { kid, alg: 'RS256', publicJwk: JSON.stringify(publicJwk), sealedPrivateKey: sealed, createdAt: now, activatesAt, removesAt: null });
    return kid;
  });
}

async function openKey(kek: Buffer, row: SigningKeyRow): Promise<SigningKey> {
  let pem: string;
  try {
    pem = unseal(kek, row.sealedPrivateKey);
  } catch {
    throw new Error(`signing key ${row.kid} cannot be opened: KEY_ENCRYPTION_SECRET (or keys/key-encryption.secret) is not the one it was sealed with`);
  }
  return {
    kid: row.kid,
    alg: 'RS256',
    privateKey: await importPKCS8(pem, 'RS256'),
    keyObject: createPrivateKey(pem),
    createdAt: row.createdAt,
    activatesAt: row.activatesAt,
    removesAt: row.removesAt,
    jwk: JSON.parse(row.publicJwk) as PublicJwk,
  };
}

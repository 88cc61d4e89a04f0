import { createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type CryptoKey, type JWK } from 'jose';

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
}

export interface KeyRing {
  /** The key that signs now. */
  signingKey(): SigningKey;
  /** A key of the ring by its kid, if it is still there. */
  findKey(kid: string): SigningKey | undefined;
  /** Every published key, for the JWKS document and for local verification. */
  publicJwks(): PublicJwk[];
}

const KEY_FILE = /^rsa-(\d+)-([A-Za-z0-9_-]{43})\.pem$/;

/**
 * Loads the signing keys from `dir`, generating an RSA-2048 key (file mode 0600) when there is none.
 * Files are named `rsa-<created epoch>-<kid>.pem`; the newest signs, all are published.
 */
export async function loadKeyRing(dir: string, now: () => number): Promise<{ ring: KeyRing; generated: boolean }> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  let generated = false;
  let files = (await fs.readdir(dir)).filter((f) => KEY_FILE.test(f));
  if (files.length === 0) {
    await generateKeyFile(dir, now());
    generated = true;
    files = (await fs.readdir(dir)).filter((f) => KEY_FILE.test(f));
  }
  const keys: Array<SigningKey & { jwk: PublicJwk }> = [];
  for (const file of files) {
    const [, created, kid] = KEY_FILE.exec(file)!;
    const pem = await fs.readFile(path.join(dir, file), 'utf8');
    const extractable = await importPKCS8(pem, 'RS256', { extractable: true });
    const jwk = await exportJWK(extractable);
    if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new Error(`key file ${file} is not an RSA key`);
    // Only the public members leave this function (RFC 7517 §9.3: never publish d, p, q, dp, dq, qi).
    const publicJwk: PublicJwk = { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e };
    const privateKey = await importPKCS8(pem, 'RS256');
    keys.push({ kid, alg: 'RS256', privateKey, keyObject: createPrivateKey(pem), createdAt: Number(created), jwk: publicJwk });
  }
  keys.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
  const active = keys[0];
  const jwks = keys.map((k) => k.jwk);
  return {
    generated,
    ring: {
      signingKey: () => active,
      findKey: (kid: string) => keys.find((k) => k.kid === kid),
      publicJwks: () => jwks,
    },
  };
}

/** Generates a new RSA-2048 key and writes it with mode 0600. Returns its kid. */
export async function generateKeyFile(dir: string, createdAt: number): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256'); // RFC 7638: stable and unique per key
  const pem = await exportPKCS8(privateKey);
  const file = path.join(dir, `rsa-${createdAt}-${kid}.pem`);
  await fs.writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  return kid;
}

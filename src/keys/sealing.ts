import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SecretSealing } from '../store/server-secrets.js';

/** A sealed value's shape: `v1.iv.tag.ciphertext`. */
const SEALED = /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/;

/** AES-256-GCM under a key derived from the key-encryption secret; output `v1.iv.tag.ciphertext` (base64url). */
export function seal(secret: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** Whether `value` has the shape seal() gives (a value stored in the clear by an older version has not). */
export function isSealed(value: string): boolean {
  return SEALED.test(value);
}

/** seal(), unseal() and isSealed() under `secret`, for the store's server secrets. */
export function secretSealing(secret: Buffer): SecretSealing {
  return { seal: (plaintext) => seal(secret, plaintext), unseal: (sealed) => unseal(secret, sealed), isSealed };
}

export function unseal(secret: Buffer, sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('not a sealed key');
  const decipher = createDecipheriv('aes-256-gcm', secret, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/**
 * The key-encryption key: SHA-256 of KEY_ENCRYPTION_SECRET when set (the same on every instance),
 * else of a random secret kept in `<keysDir>/key-encryption.secret` (mode 0600), made on first start.
 */
export async function loadKeyEncryptionKey(opts: { secret?: string; keysDir: string }): Promise<{ key: Buffer; source: string; generated: boolean }> {
  if (opts.secret) return { key: createHash('sha256').update(opts.secret).digest(), source: 'KEY_ENCRYPTION_SECRET', generated: false };
  await fs.mkdir(opts.keysDir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.keysDir, 'key-encryption.secret');
  let generated = false;
  try {
    await fs.writeFile(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    generated = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = (await fs.readFile(file, 'utf8')).trim();
  return { key: createHash('sha256').update(secret).digest(), source: file, generated };
}

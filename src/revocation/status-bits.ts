import { deflateSync, inflateSync } from 'node:zlib';

/**
 * The status list byte array of draft-ietf-oauth-status-list-20 §4.1 with 1 bit per entry:
 * entry i lives in byte ⌊i / 8⌋ at bit (i mod 8), least significant bit first; 0 VALID, 1 INVALID.
 */
export class StatusBits {
  #bytes: Uint8Array;

  constructor(size = 0) {
    this.#bytes = new Uint8Array(Math.ceil(size / 8));
  }

  /** Number of entries the list covers. */
  get size(): number {
    return this.#bytes.length * 8;
  }

  /** Grows (never shrinks) to cover at least `size` entries; new entries are VALID. */
  ensureSize(size: number): void {
    const need = Math.ceil(size / 8);
    if (need <= this.#bytes.length) return;
    const next = new Uint8Array(need);
    next.set(this.#bytes);
    this.#bytes = next;
  }

  set(index: number): void {
    this.ensureSize(index + 1);
    this.#bytes[Math.floor(index / 8)] |= 1 << index % 8;
  }

  get(index: number): 0 | 1 {
    if (index >= this.size) throw new RangeError('index out of range');
    return ((this.#bytes[Math.floor(index / 8)] >> index % 8) & 1) as 0 | 1;
  }

  /** `lst`: base64url of the ZLIB (RFC 1950) DEFLATE-compressed bytes (§4.2). */
  encode(): string {
    return deflateSync(this.#bytes, { level: 9 }).toString('base64url');
  }

  /** The raw bytes behind an `lst`. */
  static decode(lst: string): Uint8Array {
    return new Uint8Array(inflateSync(Buffer.from(lst, 'base64url')));
  }
}

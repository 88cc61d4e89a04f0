import { inflateSync } from 'node:zlib';
import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ResourceServerError } from './errors.js';

/** One fetched status list (draft-ietf-oauth-status-list-20 §5.1), decoded. */
interface CachedList {
  bytes: Uint8Array;
  bits: 1 | 2 | 4 | 8;
  /** Epoch seconds after which a fresh copy SHOULD be fetched (fetch time + `ttl`). */
  freshUntil: number;
  /** The token's `exp`: past it the list is no longer trusted. */
  exp: number;
}

/** Seconds between two attempts to fetch a list (or the issuer's keys, verify.ts) after a failure. */
export const RETRY_AFTER = 1;

export interface StatusListCacheOptions {
  keys: JWTVerifyGetKey;
  fetch: typeof fetch;
  now: () => number;
  /** Default caching period when the token carries no `ttl`. */
  defaultTtl: number;
  clockTolerance: number;
}

/**
 * Fetches, verifies and caches status list tokens. A list is used until its `ttl` runs out, then
 * served from cache while a refresh runs in the background; past its `exp` it is not used at all
 * and a failed refresh rejects (fail closed).
 */
export class StatusListCache {
  readonly #opts: StatusListCacheOptions;
  readonly #lists = new Map<string, CachedList>();
  readonly #inflight = new Map<string, Promise<CachedList>>();
  /** When the last fetch of each list failed: no new attempt for RETRY_AFTER seconds (no storm during an outage). */
  readonly #failedAt = new Map<string, number>();
  /** When each list was last consulted: background refreshes stop for lists nobody asks about. */
  readonly #lastUsed = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(opts: StatusListCacheOptions) {
    this.#opts = opts;
  }

  /** The status of entry `idx` of the list at `uri`: 0 VALID, 1 INVALID, 2 SUSPENDED, … */
  async status(uri: string, idx: number): Promise<number> {
    const now = this.#opts.now();
    let list = this.#lists.get(uri);
    const backingOff = now - (this.#failedAt.get(uri) ?? -Infinity) < RETRY_AFTER;
    if (!list || now >= list.exp) {
      if (backingOff && !this.#inflight.has(uri)) throw new ResourceServerError('status_unavailable', 'the token status list could not be fetched');
      list = await this.#refresh(uri);
    } else if (now >= list.freshUntil && !backingOff) {
      // Past its ttl a list no longer answers on its own: a revocation must reach this server within
      // the ttl even after a quiet spell. Wait for the fresh copy; if it cannot be had, the cached one
      // is still within its exp and answers (fail closed only past exp).
      list = await this.#refresh(uri).catch(() => list!);
    }
    this.#lastUsed.set(uri, now);
    // Plain arithmetic, not `>>`/`&`: those wrap a bit offset ≥ 2^31 (to a negative or wrong byte).
    const bitOffset = idx * list.bits;
    const byte = Math.floor(bitOffset / 8);
    // §8.3: an index outside the list is an error, never VALID.
    if (!(byte < list.bytes.length)) throw new ResourceServerError('invalid_token', 'status list index out of range');
    return (list.bytes[byte] >> (bitOffset % 8)) & ((1 << list.bits) - 1);
  }

  #refresh(uri: string): Promise<CachedList> {
    let pending = this.#inflight.get(uri);
    if (!pending) {
      pending = this.#fetch(uri)
        .then(
          (list) => {
            this.#failedAt.delete(uri);
            return list;
          },
          (err) => {
            this.#failedAt.set(uri, this.#opts.now());
            throw err;
          },
        )
        .finally(() => this.#inflight.delete(uri));
      this.#inflight.set(uri, pending);
    }
    return pending;
  }

  /**
   * Refreshes a list in the background shortly before its ttl runs out, so requests under steady
   * use never wait for it; a list not consulted for ten ttls is left to refresh on demand.
   */
  #scheduleBackgroundRefresh(uri: string, ttl: number): void {
    clearTimeout(this.#timers.get(uri));
    const lastUsed = this.#lastUsed.get(uri) ?? this.#opts.now();
    if (this.#opts.now() - lastUsed > 10 * Math.max(ttl, 1)) return;
    const timer = setTimeout(() => this.#refresh(uri).catch(() => undefined), Math.max(250, ttl * 900));
    timer.unref();
    this.#timers.set(uri, timer);
  }

  async #fetch(uri: string): Promise<CachedList> {
    let token: string;
    try {
      const res = await this.#opts.fetch(uri, { headers: { Accept: 'application/statuslist+jwt' }, redirect: 'error', signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) throw new Error(`status list answered ${res.status}`);
      token = (await res.text()).trim();
    } catch (err) {
      throw new ResourceServerError('status_unavailable', 'the token status list could not be fetched', { cause: err });
    }
    try {
      // §8.3: validate the status list token like any JWT: signature by the issuer's keys, typ, sub = uri, exp.
      const { payload } = await jwtVerify(token, this.#opts.keys, {
        algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
        typ: 'statuslist+jwt',
        subject: uri,
        currentDate: new Date(this.#opts.now() * 1000),
        clockTolerance: this.#opts.clockTolerance,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const statusList = payload.status_list as { bits?: unknown; lst?: unknown } | undefined;
      const bits = statusList?.bits;
      if (bits !== 1 && bits !== 2 && bits !== 4 && bits !== 8) throw new Error('bad bits');
      if (typeof statusList?.lst !== 'string') throw new Error('no lst');
      const bytes = new Uint8Array(inflateSync(Buffer.from(statusList.lst, 'base64url'), { maxOutputLength: 64 * 1024 * 1024 }));
      const ttl = typeof payload.ttl === 'number' && payload.ttl >= 0 ? payload.ttl : this.#opts.defaultTtl;
      const now = this.#opts.now();
      const list: CachedList = { bytes, bits, freshUntil: now + ttl, exp: payload.exp as number };
      this.#lists.set(uri, list);
      this.#scheduleBackgroundRefresh(uri, ttl);
      return list;
    } catch (err) {
      throw new ResourceServerError('status_unavailable', 'the token status list is invalid', { cause: err });
    }
  }
}

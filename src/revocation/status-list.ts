import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { maxStatusIndex } from '../store/grants.js';
import { revocationListVersion, revokedStatusIndexesSince } from '../store/revocations.js';
import { StatusBits } from './status-bits.js';

export const STATUS_LIST_PATH = '/statuslists/1';
/** Zero entries beyond the last index handed out, so grants made between two fetches are in range. */
const HEADROOM = 1 << 20;
/** Re-read entries this far below the last seen sequence: PostgreSQL may commit sequences out of order. */
const SEQ_OVERLAP = 1000;
/** Look at the database at most this often (seconds) unless this instance revoked something. */
const CHECK_INTERVAL = 1;

export type StatusListDeps = {
  db: Db;
  clock: Clock;
  keyRing: KeyRing;
  config: Pick<Config, 'issuer' | 'baseUrl' | 'statusListTtl' | 'statusListLifetime'>;
};

export interface StatusListToken {
  token: string;
  etag: string;
  iat: number;
  exp: number;
  /** Seconds a consumer may cache it (the `ttl` claim). */
  ttl: number;
}

export interface StatusList {
  /** The list's URI: the `uri` of every access token's `status` claim and the token's `sub`. */
  readonly uri: string;
  /** The current signed status list token (draft-ietf-oauth-status-list-20 §5.1). */
  current(): Promise<StatusListToken>;
  /**
   * What current() would resolve to now when it has nothing to do (no database check due, no new
   * signature, no rebuild under way), without a promise; otherwise undefined, and current() it is.
   */
  ready(): StatusListToken | undefined;
  /** Called after this instance revoked a grant: the next `current()` reads the database. */
  invalidate(): void;
}

/**
 * The status list of every grant, rebuilt incrementally from the revocation list. Issuance never
 * writes it (every entry starts VALID); revocation is its only writer, through the database, so
 * every instance converges within CHECK_INTERVAL.
 */
export function createStatusList(deps: StatusListDeps): StatusList {
  const uri = `${deps.config.baseUrl}${STATUS_LIST_PATH}`;
  const bits = new StatusBits(0);
  let version = { maxSeq: -1, count: -1 };
  let lastCheck = -Infinity;
  let dirty = true;
  let cached: StatusListToken | undefined;
  let building: Promise<StatusListToken> | undefined;

  /** Whether the database is to be looked at now. */
  const checkDue = (now: number) => dirty || now - lastCheck >= CHECK_INTERVAL;
  /** Whether the signed token is to be renewed now, whatever the database says. */
  const stale = (now: number) => !cached || now >= cached.iat + Math.floor(deps.config.statusListLifetime / 2);

  async function refresh(): Promise<StatusListToken> {
    const now = deps.clock.now();
    let changed = false;
    if (checkDue(now)) {
      dirty = false;
      lastCheck = now;
      const seen = await revocationListVersion(deps.db);
      if (seen.maxSeq !== version.maxSeq || seen.count !== version.count) {
        const since = Math.max(0, version.maxSeq - SEQ_OVERLAP);
        for (const { statusIndex } of await revokedStatusIndexesSince(deps.db, since)) bits.set(statusIndex);
        version = seen;
        changed = true;
      }
      const wanted = (await maxStatusIndex(deps.db)) + 1 + HEADROOM;
      if (wanted > bits.size) {
        // Grow in whole headroom steps so the list's length (and ETag) changes rarely.
        bits.ensureSize(Math.ceil(wanted / HEADROOM) * HEADROOM);
        changed = true;
      }
    }
    if (changed || stale(now)) cached = await sign(now);
    return cached!;
  }

  async function sign(now: number): Promise<StatusListToken> {
    const key = deps.keyRing.signingKey();
    const exp = now + deps.config.statusListLifetime;
    const token = await new SignJWT({ status_list: { bits: 1, lst: bits.encode() }, ttl: deps.config.statusListTtl })
      .setProtectedHeader({ alg: 'RS256', typ: 'statuslist+jwt', kid: key.kid })
      .setSubject(uri)
      .setIssuer(deps.config.issuer)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    const etag = `"${createHash('sha256').update(token).digest('base64url').slice(0, 27)}"`;
    return { token, etag, iat: now, exp, ttl: deps.config.statusListTtl };
  }

  return {
    uri,
    current() {
      // One rebuild at a time; concurrent callers share it.
      building ??= refresh().finally(() => {
        building = undefined;
      });
      return building;
    },
    ready() {
      const now = deps.clock.now();
      return building === undefined && !checkDue(now) && !stale(now) ? cached : undefined;
    },
    invalidate() {
      dirty = true;
    },
  };
}

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../lib/clock.js';
import { clearLoginFailures, openLoginFailures, recordLoginFailure } from '../store/login-failures.js';

export interface LoginLimitOptions {
  /** Failures per account in a window before sign-in is refused (default 5). */
  perAccount?: number;
  /** Failures per client address in a window (default 20). */
  perAddress?: number;
  /** Seconds a window lasts from its first failure (default 15 minutes). */
  windowSeconds?: number;
}

/**
 * Failed logins are limited per account and per address: 5 failures per account and 20 per
 * address in 15 minutes, then a wait until the window ends. The counts live in the database, so
 * every instance on it enforces the same limit (RFC 9700 §4.16 asks for brute-force protection;
 * a per-process count would give an attacker one allowance per instance). Only failures write.
 */
export function createLoginLimiter(deps: { db: Knex; clock: Clock }, opts: LoginLimitOptions = {}) {
  const window = opts.windowSeconds ?? 15 * 60;
  const perAccount = opts.perAccount ?? 5;
  const perAddress = opts.perAddress ?? 20;
  // Hashed keys: no name or address in the clear, fixed length, nothing a driver could refuse.
  const key = (kind: 'account' | 'address', value: string) => createHash('sha256').update(`${kind}\0${value}`).digest('base64url');
  const accountKey = (username: string) => key('account', username.toLowerCase());
  const addressKey = (address: string) => key('address', address);

  return {
    /** Seconds to wait before another attempt, or 0 when one may be made now. */
    async retryAfter(username: string, address: string): Promise<number> {
      const now = deps.clock.now();
      const account = accountKey(username);
      const rows = await openLoginFailures(deps.db, [account, addressKey(address)], now);
      const blocked = rows.filter((r) => r.failures >= (r.key === account ? perAccount : perAddress));
      return blocked.length ? Math.max(...blocked.map((r) => r.windowEnds - now)) : 0;
    },
    async failed(username: string, address: string): Promise<void> {
      const now = deps.clock.now();
      await recordLoginFailure(deps.db, accountKey(username), now, window);
      await recordLoginFailure(deps.db, addressKey(address), now, window);
    },
    async succeeded(username: string): Promise<void> {
      await clearLoginFailures(deps.db, accountKey(username));
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../lib/clock.js';
import { clearLoginFailures, openLoginFailures, recordLoginFailures } from '../store/login-failures.js';
import { addressKey } from '../lib/ip-address.js';

export interface LoginLimitOptions {
  /** Failures for one account from one client address in a window (default 5). */
  perAccountAndAddress?: number;
  /** Failures from one client address, whatever the accounts (default 20). */
  perAddress?: number;
  /** Failures for one account, whatever the addresses (default 100). */
  perAccount?: number;
  /** Seconds a window lasts from its first failure (default 15 minutes). */
  windowSeconds?: number;
}

/** Which limit stopped a sign-in: the page tells the person which it was. */
export type LoginBlock =
  /** Too many failures for this account from this address. */
  | 'account-and-address'
  /** Too many failures from this address, whatever the accounts. */
  | 'address'
  /** Too many failures for this account from several places: it is locked for everyone a while. */
  | 'account';

export interface LoginWait {
  /** Seconds to wait before another attempt. */
  seconds: number;
  block: LoginBlock;
}

/**
 * Failed logins are limited in three counts, each over a 15-minute window from its first failure
 * (RFC 9700 §4.16 asks for brute-force protection):
 * - 5 per (account, address): guessing one person's password from one place stops quickly, and
 *   does not lock the person out from anywhere else (issue #10: five wrong passwords from anyone
 *   used to lock an account for everyone);
 * - 20 per address: one place guessing many accounts;
 * - 100 per account, from all addresses together: a guess spread over many addresses. Far above
 *   what a person mistypes, so only a distributed attack locks an account, and only for the rest
 *   of the window.
 * The counts live in the database, so every instance on it enforces the same limits (a
 * per-process count would give an attacker one allowance per instance). Only failures write.
 */
export function createLoginLimiter(deps: { db: Knex; clock: Clock }, opts: LoginLimitOptions = {}) {
  const window = opts.windowSeconds ?? 15 * 60;
  const limits: Record<LoginBlock, number> = {
    'account-and-address': opts.perAccountAndAddress ?? 5,
    address: opts.perAddress ?? 20,
    account: opts.perAccount ?? 100,
  };
  // Hashed keys: no name or address in the clear, fixed length, nothing a driver could refuse.
  const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('base64url');
  const keys = (username: string, clientAddress: string): Record<LoginBlock, string> => {
    const account = username.toLowerCase();
    // An IPv6 address counts by its /64 (lib/ip-address.ts).
    const address = addressKey(clientAddress);
    return { 'account-and-address': hash('account+address', account, address), address: hash('address', address), account: hash('account', account) };
  };

  return {
    /** How long to wait before another attempt and why, or undefined when one may be made now. */
    async retryAfter(username: string, address: string): Promise<LoginWait | undefined> {
      const now = deps.clock.now();
      const byKey = keys(username, address);
      const rows = await openLoginFailures(deps.db, Object.values(byKey), now);
      let wait: LoginWait | undefined;
      for (const block of ['account', 'account-and-address', 'address'] as const) {
        const row = rows.find((r) => r.key === byKey[block]);
        if (row && row.failures >= limits[block] && (!wait || row.windowEnds - now > wait.seconds)) wait = { seconds: row.windowEnds - now, block };
      }
      return wait;
    },
    async failed(username: string, address: string): Promise<void> {
      await recordLoginFailures(deps.db, Object.values(keys(username, address)), deps.clock.now(), window);
    },
    /**
     * A correct password from this address forgets this address's failures for the account. The
     * account-wide count stays: a person signing in must not reset a distributed guess.
     */
    async succeeded(username: string, address: string): Promise<void> {
      await clearLoginFailures(deps.db, keys(username, address)['account-and-address']);
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

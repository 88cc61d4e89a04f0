import { RateLimiterMemory } from 'rate-limiter-flexible';

/**
 * Failed logins are limited per account and per address (rate-limiter-flexible): 5 failures per
 * account and 20 per address in 15 minutes, then a wait. Counters live in this process.
 */
export function createLoginLimiter(opts: { perAccount?: number; perAddress?: number; windowSeconds?: number } = {}) {
  const window = opts.windowSeconds ?? 15 * 60;
  const byAccount = new RateLimiterMemory({ keyPrefix: 'login-account', points: opts.perAccount ?? 5, duration: window });
  const byAddress = new RateLimiterMemory({ keyPrefix: 'login-address', points: opts.perAddress ?? 20, duration: window });
  return {
    /** Seconds to wait before another attempt, or 0 when one may be made now. */
    async retryAfter(username: string, address: string): Promise<number> {
      const [a, b] = await Promise.all([byAccount.get(username.toLowerCase()), byAddress.get(address)]);
      const blocked = [a, b].filter((r, i) => r && r.consumedPoints >= (i === 0 ? byAccount.points : byAddress.points));
      return blocked.length ? Math.max(...blocked.map((r) => Math.ceil(r!.msBeforeNext / 1000))) : 0;
    },
    async failed(username: string, address: string): Promise<void> {
      await Promise.all([byAccount.penalty(username.toLowerCase(), 1), byAddress.penalty(address, 1)]);
    },
    async succeeded(username: string): Promise<void> {
      await byAccount.delete(username.toLowerCase());
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

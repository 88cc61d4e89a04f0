import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { OAuthError } from '../errors.js';
import { addressKey } from '../lib/ip-address.js';

export interface RateLimitOptions {
  /** Requests per minute per authenticated client, across all instances (0: no limit). */
  perClient: number;
  /** Requests per minute per client address, across all instances (0: no limit). */
  perAddress: number;
}

/**
 * Per-client and per-address limits on the token, revocation and introspection endpoints
 * (rate-limiter-flexible). Counting stays in memory — no database write per request — and each
 * instance enforces its share of the limit: limit ÷ live instances (the instances table). Behind
 * a load balancer that spreads requests, the total holds across instances; with sticky routing
 * it can only be stricter.
 */
export function createRateLimits(opts: RateLimitOptions) {
  let instances = 1;
  let byClient = make('client', opts.perClient);
  let byAddress = make('address', opts.perAddress);

  function make(prefix: string, perMinute: number): RateLimiterMemory | undefined {
    if (perMinute <= 0) return undefined;
    return new RateLimiterMemory({ keyPrefix: prefix, points: Math.max(1, Math.ceil(perMinute / instances)), duration: 60 });
  }

  async function consume(limiter: RateLimiterMemory | undefined, key: string, what: string): Promise<void> {
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new OAuthError('rate_limited', `too many requests from this ${what}; retry after ${retryAfter} s`, { headers: { 'Retry-After': String(retryAfter) } });
    }
  }

  return {
    /** Called with the number of live instances; re-shares the limits when it changes. */
    setInstances(n: number): void {
      if (n === instances) return;
      instances = n;
      byClient = make('client', opts.perClient);
      byAddress = make('address', opts.perAddress);
    },
    /** An IPv6 address counts by its /64 (lib/ip-address.ts). */
    address: (ip: string) => consume(byAddress, addressKey(ip), 'address'),
    client: (clientId: string) => consume(byClient, clientId, 'client'),
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;

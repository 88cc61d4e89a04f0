import type { FetchOutcome } from './fetch-document.js';

export interface DocumentCacheOptions {
  /** Most URLs held; past it the oldest entry goes first. */
  maxEntries: number;
  /** Least and most seconds a fetched document is kept, whatever its Cache-Control says. */
  minTtl: number;
  maxTtl: number;
  /** Seconds a document without max-age is kept. */
  defaultTtl: number;
  /** Seconds a failed fetch is remembered, so a failing URL is not fetched on every request. */
  failureTtl: number;
  /**
   * Most fetches under way at once, over all URLs. Past it a get is answered at once with a
   * failure (not remembered), so a flood of made-up URLs cannot make Grantor a traffic source.
   */
  maxInFlight: number;
  /** Current time in seconds. */
  now: () => number;
}

export interface DocumentCache {
  /** The outcome for `url`: held while fresh, else fetched by `fetch` (one fetch per URL at a time). */
  get(url: string, fetch: (url: string) => Promise<FetchOutcome>): Promise<FetchOutcome>;
  /** Forgets `url` (or everything). */
  forget(url?: string): void;
}

/**
 * A bounded cache of fetched documents honouring Cache-Control (RFC 9111 §5.2.2): `max-age`
 * within [minTtl, maxTtl]; `no-store` and `no-cache` keep it only minTtl, so a hostile document
 * cannot make Grantor fetch it on every request. Concurrent gets of one URL share one fetch;
 * failures are remembered for failureTtl.
 */
export function createDocumentCache(opts: DocumentCacheOptions): DocumentCache {
  const held = new Map<string, { outcome: FetchOutcome; until: number }>();
  const inFlight = new Map<string, Promise<FetchOutcome>>();

  const ttlOf = (outcome: FetchOutcome): number => {
    if (!outcome.ok) return opts.failureTtl;
    const cc = (outcome.document.cacheControl ?? '').toLowerCase();
    if (/(^|[\s,])(no-store|no-cache)\b/.test(cc)) return opts.minTtl;
    const m = /(?:^|[\s,])max-age\s*=\s*"?(\d+)/.exec(cc);
    const asked = m ? Number(m[1]) : opts.defaultTtl;
    return Math.min(opts.maxTtl, Math.max(opts.minTtl, asked));
  };

  return {
    async get(url, fetch) {
      const entry = held.get(url);
      if (entry && entry.until > opts.now()) return entry.outcome;
      const pending = inFlight.get(url);
      if (pending) return pending;
      if (inFlight.size >= opts.maxInFlight) return { ok: false, reason: 'too many outbound fetches under way' };
      const started = fetch(url)
        .catch((err: Error): FetchOutcome => ({ ok: false, reason: `fetch failed: ${err.message}` }))
        .then((outcome) => {
          held.delete(url);
          if (held.size >= opts.maxEntries) held.delete(held.keys().next().value as string);
          held.set(url, { outcome, until: opts.now() + ttlOf(outcome) });
          return outcome;
        })
        .finally(() => inFlight.delete(url));
      inFlight.set(url, started);
      return started;
    },
    forget(url) {
      if (url === undefined) held.clear();
      else held.delete(url);
    },
  };
}

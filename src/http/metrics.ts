import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsSources {
  /** Signing keys with their ages and states, for `grantor_signing_key_age_seconds`. */
  keys(): Array<{ kid: string; state: string; createdAt: number }>;
  /** Entries in the revocation list (cluster-wide), for `grantor_revocations`. */
  revocationCount(): Promise<number>;
  now(): number;
}

/** Prometheus metrics (prom-client) in a registry of their own: no global state. */
export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'grantor_' });
  const tokensIssued = new Counter({ name: 'grantor_tokens_issued_total', help: 'Token responses sent, by grant type.', labelNames: ['grant_type'], registers: [registry] });
  const errors = new Counter({ name: 'grantor_oauth_errors_total', help: 'Error responses, by OAuth error code.', labelNames: ['error'], registers: [registry] });
  const duration = new Histogram({
    name: 'grantor_http_request_duration_seconds',
    help: 'Request latency, by route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'grantor_revocations',
    help: 'Entries in the revocation list (every instance, from the database).',
    registers: [registry],
    async collect() {
      this.set(await sources.revocationCount());
    },
  });
  new Gauge({
    name: 'grantor_signing_key_age_seconds',
    help: 'Age of each published signing key, by kid and state (next, active, retired).',
    labelNames: ['kid', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const k of sources.keys()) this.set({ kid: k.kid, state: k.state }, sources.now() - k.createdAt);
    },
  });
  return { registry, tokensIssued, errors, duration, recordRequest: requestRecorder(duration, errors) };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Records one answered request: its latency under its route pattern (never the raw path: ids
 * would explode the labels) and, for an error, its OAuth code. The labelled children are kept per
 * (method, route, status): prom-client's label hashing on every observation cost a tenth of the
 * token endpoint's throughput.
 */
function requestRecorder(duration: Histogram<'method' | 'route' | 'status'>, errors: Counter<'error'>) {
  const children = new Map<string, { observe(seconds: number): void }>();
  return function recordRequest(method: string, route: string, status: number, seconds: number, error?: string): void {
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = duration.labels({ method, route, status: String(status) });
      children.set(key, child);
    }
    child.observe(seconds);
    if (status >= 400 && error !== undefined) errors.inc({ error });
  };
}

/** Times every request that goes through koa (metrics.recordRequest). */
export function measureRequests(metrics: Pick<Metrics, 'recordRequest'>) {
  return async function measureRequestsMiddleware(ctx: Context, next: Next): Promise<void> {
    const start = performance.now();
    try {
      await next();
    } finally {
      const route = String((ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched');
      const body = ctx.body as { error?: unknown } | undefined;
      const error = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : undefined;
      metrics.recordRequest(ctx.method, route, ctx.status, (performance.now() - start) / 1000, error);
    }
  };
}

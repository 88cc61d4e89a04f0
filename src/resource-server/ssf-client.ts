/**
 * The receiver's calls to an SSF transmitter (Grantor): discovery (SSF 1.0 §7.1), an access token
 * by client_credentials (RFC 6749 §4.4, scope `ssf`), stream management (SSF 1.0 §8.1.1) and
 * verification requests (§8.1.4.2). Plain functions over fetch; every call has a time limit.
 */

/** RFC 8936 (poll) and RFC 8935 (push): the delivery method URNs of SSF 1.0 §6. */
export const POLL_DELIVERY = 'urn:ietf:rfc:8936';
export const PUSH_DELIVERY = 'urn:ietf:rfc:8935';

/** The members of the transmitter's configuration (SSF 1.0 §7.1.1) the receiver uses. */
export interface TransmitterConfiguration {
  issuer: string;
  configuration_endpoint: string;
  verification_endpoint?: string;
  delivery_methods_supported?: string[];
}

/** A stream's configuration (SSF 1.0 §8.1.1) as far as the receiver reads it. */
export interface StreamConfiguration {
  stream_id: string;
  delivery: { method: string; endpoint_url?: string };
  min_verification_interval?: number;
}

/** A transmitter call that failed: its HTTP status when it answered, for the state and the log. */
export class TransmitterError extends Error {
  readonly status?: number;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransmitterError';
    this.status = status;
  }
}

/** A call answered with an unexpected status: the status, and the OAuth error the body names (printable, bounded), for the state and the log. */
export function unexpected(what: string, answer: { status: number; json: unknown }): TransmitterError {
  const body = (typeof answer.json === 'object' && answer.json !== null ? answer.json : {}) as { error?: unknown; error_description?: unknown };
  const said = [body.error, body.error_description].filter((v): v is string => typeof v === 'string').join(': ').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return new TransmitterError(`${what} answered ${answer.status}${said ? ` (${said})` : ''}`, answer.status);
}

/** How the receiver gets its Bearer token: its own client's credentials, or a function of the app's. */
export type SsfCredentials = { clientId: string; clientSecret: string } | { token: () => Promise<string> };

/** RFC 8414 §3 / SSF 1.0 §7.2: the well-known segment goes between the host and the issuer's path. */
export function wellKnownUrl(issuer: string, name: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/${name}${path}`;
}

/**
 * Runs `call` (a request and the reading of its body) within `ms`, ended early by `outer` (close()).
 * Its own controller and timer, both released after: AbortSignal.any() on a signal that lives as
 * long as the verifier would keep a listener per call.
 */
async function limited<T>(ms: number, outer: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort(outer.reason);
  const timer = setTimeout(() => controller.abort(new DOMException('the transmitter did not answer in time', 'TimeoutError')), ms);
  outer.addEventListener('abort', abort, { once: true });
  if (outer.aborted) abort();
  try {
    return await call(controller.signal);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', abort);
  }
}

export interface SsfClientOptions {
  issuer: string;
  credentials: SsfCredentials;
  fetch: typeof fetch;
  /** Current time, epoch seconds. */
  now: () => number;
  /** Aborted by close(): every call in flight ends. */
  signal: AbortSignal;
  /** Time limit of a call other than a long poll, ms. */
  timeout: number;
}

export interface SsfClient {
  discover(): Promise<TransmitterConfiguration>;
  /** A JSON call with the Bearer token; a 401 drops the token and is retried once with a fresh one. */
  call(method: string, url: string, body: unknown, limits?: CallLimits): Promise<{ status: number; json: unknown }>;
}

/** A call's time limit (ms; default the client's `timeout`) and what ends it early (default the client's `signal`). */
export interface CallLimits {
  timeout?: number;
  signal?: AbortSignal;
}

export function createSsfClient(options: SsfClientOptions): SsfClient {
  const { issuer, credentials, now, signal } = options;
  let cached: { value: string; refreshAt: number } | undefined;

  function getJson(url: string): Promise<Record<string, unknown>> {
    return limited(options.timeout, signal, async (limit) => {
      const res = await options.fetch(url, { headers: { Accept: 'application/json' }, redirect: 'error', signal: limit });
      if (res.status !== 200) throw new TransmitterError(`${url} answered ${res.status}`, res.status);
      const json = (await res.json().catch(() => undefined)) as unknown;
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TransmitterError(`${url}: not a JSON object`);
      return json as Record<string, unknown>;
    });
  }

  /** RFC 6749 §4.4 with client_secret_basic (§2.3.1: id and secret form-encoded first). */
  async function clientCredentialsToken(clientId: string, clientSecret: string): Promise<string> {
    const metadata = await getJson(wellKnownUrl(issuer, 'oauth-authorization-server'));
    if (metadata.issuer !== issuer || typeof metadata.token_endpoint !== 'string') throw new TransmitterError('authorization server metadata: wrong issuer or no token_endpoint');
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const tokenEndpoint = metadata.token_endpoint;
    const { res, json } = await limited(options.timeout, signal, async (limit) => {
      const res = await options.fetch(tokenEndpoint, {
        method: 'POST',
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'ssf' }).toString(),
        redirect: 'error',
        signal: limit,
      });
      return { res, json: (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown } };
    });
    if (res.status !== 200 || typeof json.access_token !== 'string') throw new TransmitterError(`token endpoint answered ${res.status} ${typeof json.error === 'string' ? json.error : ''}`.trim(), res.status);
    // Renewed at half its life, so a token never expires between two calls.
    const lifetime = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 300;
    cached = { value: json.access_token, refreshAt: now() + Math.floor(lifetime / 2) };
    return json.access_token;
  }

  async function token(): Promise<string> {
    if ('token' in credentials) return credentials.token();
    if (cached && now() < cached.refreshAt) return cached.value;
    return clientCredentialsToken(credentials.clientId, credentials.clientSecret);
  }

  async function callOnce(method: string, url: string, body: unknown, limits: CallLimits) {
    const bearer = await token();
    return limited(limits.timeout ?? options.timeout, limits.signal ?? signal, async (limit) => {
      const res = await options.fetch(url, {
        method,
        headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'error',
        signal: limit,
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
    });
  }

  return {
    async discover() {
      const config = await getJson(wellKnownUrl(issuer, 'ssf-configuration'));
      // SSF 1.0 §7.2: the configuration's issuer must be the one it was looked up for.
      if (config.issuer !== issuer) throw new TransmitterError('ssf-configuration: issuer differs');
      if (typeof config.configuration_endpoint !== 'string') throw new TransmitterError('ssf-configuration: no configuration_endpoint');
      return config as unknown as TransmitterConfiguration;
    },
    async call(method, url, body, limits = {}) {
      const first = await callOnce(method, url, body, limits);
      if (first.status !== 401) return first;
      cached = undefined;
      return callOnce(method, url, body, limits);
    },
  };
}

import { createHash, randomBytes } from 'node:crypto';
import type { JWTVerifyGetKey } from 'jose';
import { ResourceServerError } from './errors.js';
import { answerPushedSet, checkPushUrl, NO_PUSH, type HeaderBag, type SetAnswer } from './push-receiver.js';
import { RevokedGrants } from './revoked-grants.js';
import { checkSecurityEvent, revokedGrantOf, SESSION_REVOKED, SetError, VERIFICATION } from './security-event.js';
import { createSsfClient, POLL_DELIVERY, PUSH_DELIVERY, TransmitterError, unexpected, type SsfCredentials, type StreamConfiguration } from './ssf-client.js';

/** Subscribing a verifier to the issuer's revocation events (SSF 1.0, CAEP 1.0 session-revoked). */
export interface RevocationEventsOptions {
  /**
   * How to get the Bearer token (scope `ssf`) for the transmitter: this API's own confidential
   * client (client_credentials with client_secret_basic at the token endpoint of the issuer's
   * RFC 8414 metadata; renewed at half its life and after a 401), or a function called before
   * each call to the transmitter (cache in it).
   */
  credentials: SsfCredentials;
  /** `poll` (RFC 8936, default): the module long-polls. `push` (RFC 8935): Grantor POSTs to `pushEndpointUrl`. */
  delivery?: 'poll' | 'push';
  /** Push only, required: where the app mounts revocationReceiver() (https; http only on loopback). */
  pushEndpointUrl?: string;
  /**
   * Keep one stream across restarts: the `stream_id` of a stream of this client, reused instead of
   * creating one; when it does not exist (first start), one is created and its id is in
   * revocationState().streamId. Such a stream outlives close(); without `streamId` the stream is
   * this process's alone and close() deletes it. One stream per process: two pollers of one
   * stream would share its events, each seeing only some.
   */
  streamId?: string;
  /** Where the module's log lines go (fallback, recovery). Default console.warn. */
  logger?: (line: string) => void;
  /** Seconds a revoked grant is remembered (then the status list alone refuses its tokens). Default 86 400. */
  revokedGrantRetention?: number;
  /** Most revoked grants remembered; past it the oldest go first. Default 100 000. */
  maxRevokedGrants?: number;
  /** Client-side limit of one long poll, ms; longer than the transmitter's hold (Grantor: 30 s). Default 60 000. */
  pollTimeout?: number;
  /** Push: ms between verification requests (SSF 1.0 §8.1.4.2). Default 300 000. */
  verificationInterval?: number;
  /** Push: ms within which the verification event must arrive, else the stream counts as broken. Default 30 000. */
  verificationTimeout?: number;
  /** Backoff between failed attempts, ms: doubling from `min` up to `max`. Default 1 000 to 30 000. */
  retryDelay?: { min?: number; max?: number };
}

/** What the verifier knows of its revocation channels. */
export interface RevocationState {
  /** `stream`: revocations apply as soon as their event arrives. `status-list-only`: within the status list's ttl + 1 s. */
  channel: 'stream' | 'status-list-only';
  delivery: 'poll' | 'push' | 'none';
  streamId?: string;
  /** When the last valid event arrived (epoch seconds). */
  lastEventAt?: number;
  /** Why the stream is not working, while it is not. */
  lastError?: string;
  /** Grants revoked by events and still remembered. */
  revokedGrants: number;
}

export interface RevocationSubscription {
  isRevoked(grantId: string, now: number): boolean;
  receiveSet(body: string | Uint8Array, headers: HeaderBag): Promise<SetAnswer>;
  state(): RevocationState;
  close(): Promise<void>;
}

export interface SubscriptionDeps {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  fetch: typeof fetch;
  now: () => number;
  clockTolerance: number;
}

/** The stream in use, and where it is managed. */
type ActiveStream = StreamConfiguration & { created: boolean; configurationEndpoint: string; verificationEndpoint?: string };

const SEEN_JTIS = 10_000;
/** Times a polled SET that could not be checked (keys unreachable, kid unknown) is left to come again before it is reported. */
const MAX_DEFERRALS = 6;
const LOG = 'grantor/resource-server: revocation events';

/**
 * Starts the subscription: discovers the transmitter, gets a token, creates (or reuses) a stream
 * whose `aud` is this API, then polls it or waits for pushes, reconnecting with backoff. The status
 * list is checked as before whatever happens here: a broken stream only loses the head start.
 */
export function subscribeToRevocations(deps: SubscriptionDeps, options: RevocationEventsOptions): RevocationSubscription {
  const delivery = options.delivery ?? 'poll';
  if (options.streamId !== undefined && (typeof options.streamId !== 'string' || options.streamId === '')) throw new TypeError('revocationEvents.streamId: a non-empty string');
  const pushUrl = delivery === 'push' ? checkPushUrl(options.pushEndpointUrl) : undefined;
  const log = options.logger ?? ((line: string) => console.warn(line));
  const revoked = new RevokedGrants(options.revokedGrantRetention ?? 86_400, options.maxRevokedGrants ?? 100_000);
  const seen = new Set<string>();
  const lifetime = new AbortController();
  const client = createSsfClient({ issuer: deps.issuer, credentials: options.credentials, fetch: deps.fetch, now: deps.now, signal: lifetime.signal, timeout: 10_000 });
  // RFC 8935 §2: the stream's authorization_header, a secret of this process; compared as hashes in constant time.
  const pushAuthorization = `Bearer ${randomBytes(32).toString('base64url')}`;
  const pushAuthorizationHash = createHash('sha256').update(pushAuthorization).digest();
  const minDelay = options.retryDelay?.min ?? 1000;
  const maxDelay = options.retryDelay?.max ?? 30_000;

  let stream: ActiveStream | undefined;
  let healthy: boolean | undefined;
  let lastEventAt: number | undefined;
  let lastError: string | undefined;
  let pendingState: string | undefined;
  let closed = false;

  function markHealthy(): void {
    lastError = undefined;
    if (healthy === true) return;
    healthy = true;
    log(`${LOG}: receiving on stream ${stream?.stream_id} (${delivery}); revocations apply as soon as their event arrives`);
  }

  function markBroken(reason: string): void {
    lastError = reason;
    if (healthy === false) return;
    healthy = false;
    log(`${LOG}: falling back to the status list alone (${reason}); revoked tokens are refused within its ttl`);
  }

  /** Validates and applies one SET; a duplicate is accepted and not applied again. */
  async function take(jws: string, key?: string): Promise<void> {
    const event = await checkSecurityEvent(jws, { keys: deps.keys, issuer: deps.issuer, audience: deps.audience, now: deps.now(), clockTolerance: deps.clockTolerance });
    if (key !== undefined && key !== event.jti) throw new SetError('invalid_request', 'the SET’s jti is not the one it was delivered under');
    if (seen.has(event.jti)) return;
    if (event.type === SESSION_REVOKED) {
      revoked.add(revokedGrantOf(event), deps.now());
    } else if (event.type === VERIFICATION) {
      if (pendingState !== undefined && event.event.state === pendingState) {
        pendingState = undefined;
        markHealthy();
      }
    }
    // SSF 1.0 §4.1: other event types are acknowledged and ignored.
    if (seen.size >= SEEN_JTIS) seen.delete(seen.values().next().value as string);
    seen.add(event.jti);
    lastEventAt = deps.now();
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      const done = () => {
        clearTimeout(timer);
        lifetime.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      lifetime.signal.addEventListener('abort', done, { once: true });
    });

  /** SSF 1.0 §7.1 discovery, then §8.1.1.1 creation (or reuse of `streamId`), of a stream for this API. */
  async function establish(): Promise<ActiveStream> {
    const config = await client.discover();
    const method = delivery === 'push' ? PUSH_DELIVERY : POLL_DELIVERY;
    if (Array.isArray(config.delivery_methods_supported) && !config.delivery_methods_supported.includes(method)) throw new TransmitterError(`the transmitter does not offer ${method}`);
    const wanted = delivery === 'push' ? { method, endpoint_url: pushUrl, authorization_header: pushAuthorization } : { method };
    const reuse = options.streamId !== undefined && stream === undefined ? options.streamId : stream?.created === false ? stream.stream_id : undefined;
    let answer: { status: number; json: unknown } | undefined;
    let created = false;
    if (reuse !== undefined) {
      // §8.1.1.3: a pushed stream gets this process's new secret; a polled one is read as it is.
      answer =
        delivery === 'push'
          ? await client.call('PATCH', config.configuration_endpoint, { stream_id: reuse, delivery: wanted })
          : await client.call('GET', `${config.configuration_endpoint}?stream_id=${encodeURIComponent(reuse)}`, undefined);
      if (answer.status === 404) {
        log(`${LOG}: stream ${reuse} is gone; creating a new one (its stream_id is in revocationState())`);
        answer = undefined;
      } else if (answer.status !== 200) throw unexpected(`reading stream ${reuse}`, answer);
    }
    if (answer === undefined) {
      answer = await client.call('POST', config.configuration_endpoint, {
        delivery: wanted,
        aud: deps.audience,
        events_requested: [SESSION_REVOKED, VERIFICATION],
        description: `grantor/resource-server for ${deps.audience}`,
      });
      if (answer.status !== 201 && answer.status !== 200) throw unexpected('creating a stream', answer);
      created = true;
    }
    const got = answer.json as Partial<StreamConfiguration> | undefined;
    if (typeof got?.stream_id !== 'string' || got.delivery?.method !== method) throw new TransmitterError('the stream configuration is not the one asked for');
    if (delivery === 'poll' && typeof got.delivery.endpoint_url !== 'string') throw new TransmitterError('the polled stream has no endpoint_url');
    return { ...(got as StreamConfiguration), created, configurationEndpoint: config.configuration_endpoint, verificationEndpoint: config.verification_endpoint };
  }

  /** RFC 8936 §2.4: one poll; acknowledges in the next what this one processed. */
  const acks: string[] = [];
  let setErrs: Record<string, { err: string; description: string }> = {};
  const deferrals = new Map<string, number>();
  /** One poll: whether to poll again at once, and how many SETs were left to come again (0: none). */
  async function pollOnce(returnImmediately: boolean): Promise<{ again: boolean; deferred: number }> {
    const body = { maxEvents: 100, returnImmediately, ...(acks.length ? { ack: [...acks] } : {}), ...(Object.keys(setErrs).length ? { setErrs } : {}) };
    const answer = await client.call('POST', stream!.delivery.endpoint_url!, body, { timeout: options.pollTimeout ?? 60_000 });
    if (answer.status !== 200) throw unexpected('poll', answer);
    acks.length = 0;
    setErrs = {};
    const json = answer.json as { sets?: unknown; moreAvailable?: unknown } | undefined;
    const sets = json?.sets;
    if (typeof sets !== 'object' || sets === null || Array.isArray(sets)) throw new TransmitterError('poll answer without sets');
    markHealthy();
    let deferred = 0;
    for (const [jti, jws] of Object.entries(sets as Record<string, unknown>)) {
      try {
        if (typeof jws !== 'string') throw new SetError('invalid_request', 'not a compact JWS');
        await take(jws, jti);
        acks.push(jti);
        deferrals.delete(jti);
      } catch (err) {
        // RFC 8936 §2.4.4: a SET refused is reported in setErrs; one that could not be checked (keys
        // unreachable, a kid not yet in the JWKS) is neither acknowledged nor reported, so it comes again,
        // until it has failed MAX_DEFERRALS times.
        if (!(err instanceof SetError) && !(err instanceof ResourceServerError)) throw err;
        const times = (deferrals.get(jti) ?? 0) + 1;
        if (err instanceof SetError || times >= MAX_DEFERRALS) {
          deferrals.delete(jti);
          setErrs[jti] = err instanceof SetError ? { err: err.err, description: err.message } : { err: 'invalid_key', description: err.message };
        } else {
          if (deferrals.size >= 1000) deferrals.clear();
          deferrals.set(jti, times);
          deferred = Math.max(deferred, times);
        }
      }
    }
    // §2.4: acknowledgements ride on the next long poll; only a transmitter holding more is asked again at once.
    return { again: json?.moreAvailable === true, deferred };
  }

  /** SSF 1.0 §8.1.4.2: asks for a verification event; the stream is healthy when it comes back. */
  async function verifyPush(): Promise<void> {
    const endpoint = stream!.verificationEndpoint;
    if (!endpoint) return markHealthy(); // nothing to ask with: trust the stream
    const state = randomBytes(16).toString('base64url');
    pendingState = state;
    const answer = await client.call('POST', endpoint, { stream_id: stream!.stream_id, state });
    if (answer.status !== 204 && answer.status !== 200) throw unexpected('verification request', answer);
    await sleep(options.verificationTimeout ?? 30_000);
    if (!closed && pendingState === state) markBroken('no verification event arrived');
  }

  function describe(err: unknown): string {
    if (err instanceof Error && err.name === 'TimeoutError') return 'the transmitter did not answer in time';
    if (err instanceof TransmitterError) return err.message;
    return `the transmitter could not be reached (${err instanceof Error ? err.message : String(err)})`;
  }

  async function run(): Promise<void> {
    let failures = 0;
    let immediately = true;
    while (!closed) {
      try {
        if (!stream) {
          stream = await establish();
          immediately = true;
        }
        if (delivery === 'poll') {
          const { again, deferred } = await pollOnce(immediately);
          immediately = again;
          // SETs left to come again would come back at once: wait, longer each time, for the keys.
          if (deferred > 0) await sleep(Math.min(maxDelay, minDelay * 2 ** (deferred - 1)));
        } else {
          await verifyPush();
          // SSF 1.0 §8.1.4.2: not more often than the transmitter's min_verification_interval.
          if (healthy) await sleep(Math.max(options.verificationInterval ?? 300_000, (stream?.min_verification_interval ?? 0) * 1000));
        }
        failures = 0;
      } catch (err) {
        if (closed) break;
        markBroken(describe(err));
        // A stream the transmitter no longer knows is made again.
        if (err instanceof TransmitterError && err.status === 404) stream = undefined;
        await sleep(Math.min(maxDelay, minDelay * 2 ** failures++));
      }
    }
  }
  const running = run();

  return {
    isRevoked: (grantId, now) => revoked.has(grantId, now),
    receiveSet: (body, headers) => (delivery === 'push' ? answerPushedSet(body, headers, pushAuthorizationHash, take) : Promise.resolve(NO_PUSH)),
    state: () => ({
      channel: healthy ? 'stream' : 'status-list-only',
      delivery,
      ...(stream ? { streamId: stream.stream_id } : {}),
      ...(lastEventAt !== undefined ? { lastEventAt } : {}),
      ...(lastError !== undefined ? { lastError } : {}),
      revokedGrants: revoked.size,
    }),
    async close() {
      if (closed) return running;
      closed = true;
      lifetime.abort();
      await running;
      // A stream made for this process alone is deleted (best effort), so events stop queueing for it at
      // the transmitter; with `streamId` configured the stream outlives the process, for the next start.
      if (stream?.created && options.streamId === undefined) {
        const url = `${stream.configurationEndpoint}?stream_id=${encodeURIComponent(stream.stream_id)}`;
        await client.call('DELETE', url, undefined, { timeout: 2000, signal: new AbortController().signal }).catch(() => undefined);
      }
    },
  };
}

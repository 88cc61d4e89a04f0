import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { checkDpopProof, createProofKeyCache, DPOP_ALGORITHMS, PROOF_MAX_AGE } from './dpop-proof.js';
import { ResourceServerError } from './errors.js';
import { NO_PUSH, type HeaderBag, type SetAnswer } from './push-receiver.js';
import { subscribeToRevocations, type RevocationEventsOptions, type RevocationState } from './revocation-events.js';
import { RETRY_AFTER, StatusListCache } from './status-list-cache.js';

/** The claims of a verified Grantor access token (RFC 9068 §2.2). */
export interface AccessTokenPayload extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
  grant_id?: string;
  status?: { status_list?: { idx: number; uri: string } };
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to. */
  cnf?: { jkt?: string };
}

/**
 * Remembers DPoP proofs (by key thumbprint and `jti`) until they could no longer be accepted, so
 * each is used once (RFC 9449 §11.1). `use` answers true the first time, false for a replay.
 * The default keeps them in this process's memory: with several instances of the API behind one
 * name, give every instance one shared store (a unique insert in a database, a Redis SET NX).
 */
export interface DpopReplayCache {
  use(jkt: string, jti: string, until: number): boolean | Promise<boolean>;
}

export interface DpopOptions {
  /** Refuse Bearer tokens altogether: every request must use DPoP. Default false (bound tokens always need DPoP). */
  required?: boolean;
  /** Proof algorithms accepted (`algs` of the challenge). Default ES256, ES384, PS256, RS256, EdDSA. */
  algorithms?: string[];
  /** Seconds a proof's `iat` may lie in the past. Default 60. */
  maxAge?: number;
  /** Where used proofs are remembered. Default: this process's memory. */
  replay?: DpopReplayCache;
}

/** A resource request as verifyRequest() needs it. */
export interface ResourceRequest {
  /** HTTP method (`htm`). */
  method: string;
  /** The URL the client called, as the API publishes it (`htu`; query and fragment are ignored). */
  url: string;
  /** The Authorization header: `Bearer <token>` or `DPoP <token>`. */
  authorization: string;
  /** The DPoP header, if any. */
  dpop?: string;
}

export interface VerifierOptions {
  /** The authorization server's issuer identifier, compared exactly with `iss`. */
  issuer: string;
  /** This API's resource identifier: `aud` must contain it. */
  audience: string;
  /** Where the keys are. Default: `${issuer}/.well-known/jwks.json`. */
  jwksUri?: string;
  /**
   * Check each token's `status` claim against the issuer's Token Status List
   * (draft-ietf-oauth-status-list-20). Default true. When the list cannot be had past its `exp`,
   * tokens are refused (`status_unavailable`) unless `failOpen` is set.
   */
  statusList?: boolean | { failOpen?: boolean };
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockTolerance?: number;
  /** DPoP (RFC 9449 §7): which proofs are accepted and where used ones are remembered. */
  dpop?: DpopOptions;
  /** Minimum time between two JWKS fetches triggered by an unknown `kid`, in ms. Default 30 000. */
  jwksCooldown?: number;
  /** Caching period of a status list without `ttl`, in seconds. Default 60. */
  defaultStatusListTtl?: number;
  /**
   * Subscribe to the issuer's revocation events (OpenID Shared Signals 1.0, CAEP session-revoked):
   * a revoked grant's tokens are refused as soon as its event arrives, not when the status list's
   * ttl runs out. The status list is still checked: a broken stream falls back to it.
   */
  revocationEvents?: RevocationEventsOptions;
  /** For tests: the fetch to use and the current time in epoch seconds. */
  fetch?: typeof fetch;
  now?: () => number;
}

export interface Verifier {
  /**
   * Verifies a bearer access token; resolves to its claims or rejects with a ResourceServerError.
   * A DPoP-bound token (one with `cnf.jkt`) is refused here: it is only good with its proof,
   * through verifyRequest() (RFC 9449 §7.2).
   */
  verify(token: string): Promise<AccessTokenPayload>;
  /**
   * Verifies a request's credentials, `Authorization: Bearer …` or `Authorization: DPoP …` with its
   * `DPoP` proof (RFC 9449 §7.1: method, URL, `ath`, the key matching `cnf.jkt`, single use).
   */
  verifyRequest(request: ResourceRequest): Promise<{ claims: AccessTokenPayload; scheme: 'Bearer' | 'DPoP' }>;
  /** The proof algorithms accepted, for the `algs` of a DPoP challenge. */
  readonly dpopAlgorithms: readonly string[];
  /** Whether every request must use DPoP. */
  readonly dpopRequired: boolean;
  /**
   * Takes one pushed SET (RFC 8935 §2): the request's body and headers in, the answer out (202, or
   * 400 `{err, description}`). For frameworks other than koa; koa apps mount revocationReceiver().
   */
  receiveSet(body: string | Uint8Array, headers: HeaderBag): Promise<SetAnswer>;
  /** Which channel revocations reach this verifier through now, and why not the stream when not. */
  revocationState(): RevocationState;
  /** The push endpoint's path (from `revocationEvents.pushEndpointUrl`), when the verifier takes pushes. */
  readonly pushEndpointPath: string | undefined;
  /** Stops the subscription (its poll, timers and sockets; a stream it made is deleted). */
  close(): Promise<void>;
}

/** The default replay cache: a Map of proofs still acceptable, swept of expired ones as it grows. */
function memoryReplayCache(now: () => number): DpopReplayCache {
  const seen = new Map<string, number>();
  let sweepAt = 1024;
  return {
    use(jkt, jti, until) {
      const t = now();
      if (seen.size >= sweepAt) {
        for (const [k, u] of seen) if (u <= t) seen.delete(k);
        sweepAt = Math.max(1024, seen.size * 2);
      }
      const key = `${jkt} ${jti}`;
      const known = seen.get(key);
      if (known !== undefined && known > t) return false;
      seen.set(key, until);
      return true;
    },
  };
}

// RFC 6750 §2.1 and RFC 9449 §7.1: credentials = scheme 1*SP token68; schemes are case-insensitive (RFC 9110 §11.1).
const CREDENTIALS = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Builds a verifier for Grantor access tokens: RS256 signature through the remote JWKS (cached,
 * refetched on an unknown `kid` with a cooldown), `typ` at+jwt, exact `iss`, `aud`, `exp`/`nbf`
 * with a small leeway, then the grant's bit in the status list (a cached bit lookup).
 * DPoP-bound tokens (RFC 9449, `cnf.jkt`) are accepted only through verifyRequest() with their
 * proof; `dpop.required` refuses bearer tokens altogether.
 *
 * @example
 * ```ts
 * import { createVerifier } from 'grantor/resource-server';
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
 * const claims = await verifier.verify(token); // throws ResourceServerError
 * // or, for Bearer and DPoP alike:
 * const { claims, scheme } = await verifier.verifyRequest({ method: 'GET', url: 'https://api.example.com/photos', authorization, dpop });
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = options.issuer; // compared exactly with `iss` (RFC 9068 §4)
  const base = issuer.replace(/\/+$/, '');
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const clockTolerance = options.clockTolerance ?? 5;
  const fetchImpl = options.fetch ?? fetch;
  // A JWKS that cannot be fetched is an outage, not a bad token: mark it so verify() can tell. After
  // a failure none is fetched for a moment (jose's cooldown counts only from a success): otherwise each
  // token with an unknown kid — any forged one — would be a request to an issuer already failing.
  const failureBackoffMs = Math.min(options.jwksCooldown ?? 30_000, RETRY_AFTER * 1000);
  let failedAt = -Infinity;
  const outage = (message: string, cause?: unknown) => {
    failedAt = Date.now();
    return new ResourceServerError('status_unavailable', message, cause === undefined ? undefined : { cause });
  };
  const jwksFetch: typeof fetch = async (input, init) => {
    if (Date.now() - failedAt < failureBackoffMs) throw new ResourceServerError('status_unavailable', 'the issuer’s keys could not be fetched a moment ago');
    let res: Response;
    try {
      res = await fetchImpl(input, init);
    } catch (err) {
      throw outage('the issuer’s keys could not be fetched', err);
    }
    if (res.status !== 200) throw outage(`the issuer’s keys answered ${res.status}`);
    // A 200 that is not JSON (a proxy's error page) is an outage too, not a bad token.
    const body = await res.text();
    try {
      JSON.parse(body);
    } catch {
      throw outage('the issuer’s keys answered something that is not JSON');
    }
    return new Response(body, { status: 200, headers: res.headers });
  };
  const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUri ?? `${base}/.well-known/jwks.json`), {
    cooldownDuration: options.jwksCooldown ?? 30_000,
    [customFetch]: jwksFetch as never,
  });
  const statusOption = options.statusList ?? true;
  const failOpen = typeof statusOption === 'object' && statusOption.failOpen === true;
  const statusLists = statusOption
    ? new StatusListCache({ keys, fetch: fetchImpl, now, defaultTtl: options.defaultStatusListTtl ?? 60, clockTolerance })
    : undefined;

  const events = options.revocationEvents
    ? subscribeToRevocations({ issuer, audience: options.audience, keys, fetch: fetchImpl, now, clockTolerance }, options.revocationEvents)
    : undefined;

  const dpopAlgorithms = options.dpop?.algorithms ?? [...DPOP_ALGORITHMS];
  const dpopRequired = options.dpop?.required ?? false;
  const dpopMaxAge = options.dpop?.maxAge ?? PROOF_MAX_AGE;
  const replay = options.dpop?.replay ?? memoryReplayCache(now);
  const proofKeys = createProofKeyCache();

  async function verifyToken(token: string): Promise<AccessTokenPayload> {
    let payload: AccessTokenPayload;
    try {
      // RFC 9068 §4: typ, iss exactly, aud, exp, signature with the issuer's key; RS256 only.
      ({ payload } = (await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        typ: 'at+jwt',
        issuer,
        audience: options.audience,
        clockTolerance,
        currentDate: new Date(now() * 1000),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      })) as unknown as { payload: AccessTokenPayload });
    } catch (err) {
      if (err instanceof ResourceServerError) throw err;
      if (err instanceof errors.JWKSTimeout) throw new ResourceServerError('status_unavailable', 'the issuer’s keys could not be fetched', { cause: err });
      if (err instanceof errors.JOSEError || err instanceof TypeError) throw new ResourceServerError('invalid_token', (err as Error).message, { cause: err });
      throw err;
    }
    // A grant whose revocation event arrived: refused as the status list would (one Map lookup).
    if (events && typeof payload.grant_id === 'string' && events.isRevoked(payload.grant_id, now())) {
      throw new ResourceServerError('invalid_token', 'the token’s grant is revoked');
    }
    if (statusLists) {
      const ref = payload.status?.status_list;
      if (!ref || !Number.isInteger(ref.idx) || ref.idx < 0 || typeof ref.uri !== 'string') {
        throw new ResourceServerError('invalid_token', 'the token carries no status list reference');
      }
      // Only follow status lists the issuer itself publishes.
      if (!ref.uri.startsWith(`${base}/`)) throw new ResourceServerError('invalid_token', 'status list outside the issuer');
      let status: number;
      try {
        status = await statusLists.status(ref.uri, ref.idx);
      } catch (err) {
        if (failOpen && err instanceof ResourceServerError && err.code === 'status_unavailable') return payload;
        throw err;
      }
      if (status !== 0) throw new ResourceServerError('invalid_token', 'the token’s grant is revoked');
    }
    return payload;
  }

  /** RFC 9449 §7.1: the proof is for this request and this token, by the token's key, and new. */
  async function verifyDpop(token: string, request: ResourceRequest): Promise<AccessTokenPayload> {
    const claims = await verifyToken(token).catch((err: unknown) => {
      throw err instanceof ResourceServerError && err.code === 'invalid_token' ? new ResourceServerError('invalid_token', err.message, { cause: err, scheme: 'DPoP' }) : err;
    });
    const jkt = claims.cnf?.jkt;
    if (typeof jkt !== 'string') throw new ResourceServerError('invalid_token', 'the DPoP scheme with a token that is not DPoP-bound', { scheme: 'DPoP' });
    if (request.dpop === undefined || request.dpop === '') throw new ResourceServerError('invalid_dpop_proof', 'no DPoP proof');
    const proof = await checkDpopProof(request.dpop, { method: request.method, url: request.url, accessToken: token, now: now(), algorithms: dpopAlgorithms, maxAge: dpopMaxAge, keys: proofKeys });
    if (proof.jkt !== jkt) throw new ResourceServerError('invalid_dpop_proof', 'the proof’s key is not the token’s (cnf.jkt)');
    if (!(await replay.use(proof.jkt, proof.jti, proof.acceptableUntil))) throw new ResourceServerError('invalid_dpop_proof', 'the proof was already used');
    return claims;
  }

  async function verifyBearer(token: string): Promise<AccessTokenPayload> {
    const claims = await verifyToken(token);
    // RFC 9449 §7.2: a bound token without its proof is refused, whatever the API's settings.
    if (claims.cnf !== undefined) throw new ResourceServerError('invalid_token', 'a DPoP-bound token presented as a bearer token', { scheme: 'DPoP' });
    if (dpopRequired) throw new ResourceServerError('invalid_token', 'this API requires DPoP', { scheme: 'DPoP' });
    return claims;
  }

  return {
    dpopAlgorithms,
    dpopRequired,
    pushEndpointPath: options.revocationEvents?.delivery === 'push' ? new URL(options.revocationEvents.pushEndpointUrl!).pathname : undefined,
    receiveSet: (body, headers) => (events ? events.receiveSet(body, headers) : Promise.resolve(NO_PUSH)),
    revocationState: () => events?.state() ?? { channel: 'status-list-only', delivery: 'none', revokedGrants: 0 },
    close: async () => events?.close(),
    verify: verifyBearer,
    async verifyRequest(request: ResourceRequest) {
      const match = CREDENTIALS.exec(request.authorization);
      if (!match) throw new ResourceServerError('invalid_token', 'malformed Authorization header', { scheme: dpopRequired ? 'DPoP' : 'Bearer' });
      if (match[1].toLowerCase() === 'dpop') return { claims: await verifyDpop(match[2], request), scheme: 'DPoP' as const };
      return { claims: await verifyBearer(match[2]), scheme: 'Bearer' as const };
    },
  };
}

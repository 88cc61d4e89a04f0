import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ResourceServerError } from './errors.js';
import { StatusListCache } from './status-list-cache.js';

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
  /** Minimum time between two JWKS fetches triggered by an unknown `kid`, in ms. Default 30 000. */
  jwksCooldown?: number;
  /** Caching period of a status list without `ttl`, in seconds. Default 60. */
  defaultStatusListTtl?: number;
  /** For tests: the fetch to use and the current time in epoch seconds. */
  fetch?: typeof fetch;
  now?: () => number;
}

export interface Verifier {
  /** Verifies an access token; resolves to its claims or rejects with a ResourceServerError. */
  verify(token: string): Promise<AccessTokenPayload>;
}

/**
 * Builds a verifier for Grantor access tokens: RS256 signature through the remote JWKS (cached,
 * refetched on an unknown `kid` with a cooldown), `typ` at+jwt, exact `iss`, `aud`, `exp`/`nbf`
 * with a small leeway, then the grant's bit in the status list (a cached bit lookup).
 *
 * @example
 * ```ts
 * import { createVerifier } from 'grantor/resource-server';
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
 * const claims = await verifier.verify(token); // throws ResourceServerError
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = options.issuer; // compared exactly with `iss` (RFC 9068 §4)
  const base = issuer.replace(/\/+$/, '');
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const clockTolerance = options.clockTolerance ?? 5;
  const fetchImpl = options.fetch ?? fetch;
  // A JWKS that cannot be fetched is an outage, not a bad token: mark it so verify() can tell.
  const jwksFetch: typeof fetch = async (input, init) => {
    let res: Response;
    try {
      res = await fetchImpl(input, init);
    } catch (err) {
      throw new ResourceServerError('status_unavailable', 'the issuer’s keys could not be fetched', { cause: err });
    }
    if (res.status !== 200) throw new ResourceServerError('status_unavailable', `the issuer’s keys answered ${res.status}`);
    return res;
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

  return {
    async verify(token: string): Promise<AccessTokenPayload> {
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
    },
  };
}

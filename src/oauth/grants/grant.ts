import type { Config } from '../../config.js';
import type { KeyRing } from '../../keys/key-ring.js';
import type { EventWake } from '../../revocation/revoke-grant.js';
import type { StatusList } from '../../revocation/status-list.js';
import type { Clock } from '../../lib/clock.js';
import type { Db } from '../../store/db.js';
import type { ReadCache } from '../../store/read-cache.js';
import type { HotReads } from '../../store/hot-reads.js';
import type { RotationBatcher } from '../../store/rotate-refresh-tokens.js';
import type { RateLimits } from '../../http/rate-limit.js';
import type { ProofKeyCache } from '../../resource-server/dpop-proof.js';
import type { ClientKeys } from '../client-keys.js';
import type { VerifiedTokens } from '../accept-access-token.js';

/** What every grant may touch. */
export type GrantDeps = {
  db: Db;
  clock: Clock;
  keyRing: KeyRing;
  readCache: ReadCache;
  /** Access tokens already verified (src/oauth/accept-access-token.ts). */
  verifiedTokens: VerifiedTokens;
  /** Refresh token rotations, committed in groups (src/store/rotate-refresh-tokens.ts). */
  rotations: RotationBatcher;
  /** The refresh grant's read, off the writer's path (src/store/hot-reads.ts). */
  reads: HotReads;
  rateLimits: Pick<RateLimits, 'client'>;
  /** private_key_jwt clients' keys (RFC 7523 §2.2; src/oauth/client-keys.ts). */
  clientKeys: ClientKeys;
  statusList: Pick<StatusList, 'uri' | 'invalidate'>;
  /** Shared Signals deliverers, woken when a revocation queued events (issue #13). */
  ssf: EventWake;
  /** RFC 9449: proof keys already imported (src/resource-server/dpop-proof.ts). */
  dpopProofKeys?: ProofKeyCache;
  /** Server-wide secrets shared by every instance. */
  secrets: { refreshSuccessor: string; dpopNonce: string };
  config: Pick<Config, 'issuer' | 'baseUrl' | 'accessTokenTtl' | 'refreshGrace' | 'grantIdleTimeout' | 'dpopNonces'>;
};

/** A token request as the token endpoint hands it to a grant. */
export interface TokenRequest {
  form: URLSearchParams;
  /** The raw Authorization header, if any. */
  authorization?: string;
  /** The raw DPoP header (RFC 9449 §4), if any. */
  dpop?: string;
}

/** A token request as a grant sees it: the DPoP proof, if any, already checked. */
export interface GrantRequest extends TokenRequest {
  /** RFC 9449 §6.1: the JWK thumbprint of the proof's key; the tokens are bound to it. */
  dpopJkt?: string;
}

/** RFC 6749 §5.1 success body. */
export interface TokenResponse {
  access_token: string;
  /** `DPoP` when the access token is bound to a proof key (RFC 9449 §5), else `Bearer`. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  /** RFC 8693 §2.2.1: the type of the token issued by a token exchange. */
  issued_token_type?: string;
}

export type GrantHandler = (deps: GrantDeps, request: GrantRequest) => Promise<TokenResponse>;

/** Typed rows as the rest of Grantor sees them (JSON columns already parsed, booleans real). */

export type ClientType = 'confidential' | 'public';

/** RFC 7591 §2 `token_endpoint_auth_method`: how a client authenticates (RFC 6749 §2.3, RFC 7523 §2.2). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** A JWK Set (RFC 7517 §5) of public keys only. */
export interface PublicJwks {
  keys: Array<Record<string, unknown>>;
}

export interface ScopeDefinition {
  name: string;
  description: string;
}

export interface ResourceRow {
  id: string;
  identifier: string;
  name: string;
  scopes: ScopeDefinition[];
  accessTokenTtl: number | null;
  /** RFC 9449 / RFC 9728 §2: this API accepts only DPoP-bound access tokens. */
  dpopBoundAccessTokens: boolean;
  /** Scopes that clients nobody vetted (metadata documents, self-registration) may ask for (issue #11). */
  dynamicClientScopes: string[];
  /** RFC 8693: the clients that may exchange an access token for one of this API (default none). */
  tokenExchangeClients: string[];
  createdAt: number;
  updatedAt: number;
}

export interface ClientRow {
  clientId: string;
  name: string;
  type: ClientType;
  secretHash: string | null;
  grantTypes: string[];
  redirectUris: string[];
  scopes: string[];
  disabled: boolean;
  /** RFC 9449 §5.2: this client always uses DPoP; a token request without a proof is refused. */
  dpopBoundAccessTokens: boolean;
  /**
   * How the client authenticates. A secret client may use Basic or the body whichever it registered
   * (RFC 6749 §2.3.1); a `private_key_jwt` client only signed assertions (RFC 7523 §2.2), with a
   * key of `jwks` or of the set at `jwksUri`; a `none` client is public.
   */
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  jwks: PublicJwks | null;
  jwksUri: string | null;
  createdAt: number;
  updatedAt: number;
  /**
   * How Grantor knows this client. Absent: an admin registered it. `metadata_document`: it named
   * itself by an https URL whose document Grantor fetched (issue #11); no one vetted it, so it
   * gets only the scopes each resource lists in `dynamicClientScopes`. `registration`: it
   * registered itself (RFC 7591); no one vetted it either, and it is limited the same way.
   */
  source?: 'metadata_document' | 'registration';
  /** RFC 7592 §1.1: hash of a self-registered client's registration access token. */
  registrationTokenHash?: string | null;
  /** Hash of the address a self-registered client registered from (the per-address limit counts by it). */
  registeredFrom?: string | null;
  /** RFC 7591 §2 metadata a self-registered client gave that Grantor keeps but does not act on. */
  clientMetadata?: RegisteredMetadata | null;
}

/** RFC 7591 §2 members kept as given (after validation) and returned to the client, never used. */
export interface RegisteredMetadata {
  client_uri?: string;
  logo_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
}

/** An initial access token (RFC 7591 §3) admins mint for REGISTRATION=token; only its hash is kept. */
export interface RegistrationTokenRow {
  id: string;
  tokenHash: string;
  description: string;
  createdAt: number;
  expiresAt: number | null;
  maxUses: number | null;
  uses: number;
  revokedAt: number | null;
}

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** `token_exchange`: made by exchanging an access token of its parent grant (RFC 8693). */
export type GrantKind = 'client_credentials' | 'authorization_code' | 'token_exchange';

export interface GrantRow {
  id: string;
  clientId: string;
  userId: string | null;
  resource: string;
  scope: string;
  kind: GrantKind;
  /** This grant's index in the status list; every token of the grant carries it. */
  statusIndex: number;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** Absolute end of a delegated grant (null: no limit, as for client_credentials). */
  expiresAt: number | null;
  /** RFC 8693: the grant whose access token was exchanged for this one; revoked with it. */
  parentGrantId?: string | null;
}

/** A page of rows and the opaque cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

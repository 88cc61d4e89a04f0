/**
 * Environment → validated, typed Config. Each setting's default and meaning sits beside its schema;
 * the README's configuration table is written from this file.
 */
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const EnvSchema = z.object({
  /** TCP port to listen on. 0 picks a free port (the log says which). */
  PORT: port.default(3000),
  /** Address to bind. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** The issuer identifier (RFC 8414 §2): https URL, no query or fragment. Default http://localhost:PORT. */
  ISSUER: z.string().optional(),
  /** Unset → db/grantor.sqlite; `sqlite:PATH` or a plain path → SQLite there; `sqlite::memory:` → in memory; postgres://… → PostgreSQL. */
  DATABASE_URL: z.string().optional(),
  /** Folder holding the signing keys (PKCS#8 PEM, mode 0600); created with a fresh RSA-2048 key when empty. */
  KEYS_DIR: z.string().min(1).default('keys'),
  /** Default access token lifetime in seconds (a resource may set its own). */
  ACCESS_TOKEN_TTL: seconds(30, 86400).default(600),
  /**
   * Seals the private signing keys in the database (AES-256-GCM). Set the same value on every
   * instance; unset, a random secret is kept in KEYS_DIR/key-encryption.secret (mode 0600).
   */
  KEY_ENCRYPTION_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  /** Rotate the signing key automatically this often, in seconds (0: only by hand). Default 90 days. */
  KEY_ROTATION_INTERVAL: seconds(0, 10 * 365 * 86400).default(90 * 86400),
  /** Seconds a new key is published before it signs; never less than JWKS_MAX_AGE + 10. */
  KEY_PUBLICATION_DELAY: seconds(0, 30 * 86400).optional(),
  /** Lifetime of the Cache-Control max-age on the JWKS and metadata documents, in seconds. */
  JWKS_MAX_AGE: seconds(0, 86400).default(300),
  /** `ttl` of the status list token: how long resource servers may cache it (seconds). Revocations reach them within about this. */
  STATUS_LIST_TTL: seconds(1, 3600).default(10),
  /** Lifetime (`exp` − `iat`) of a status list token: past it, resource servers that cannot refresh fail closed. */
  STATUS_LIST_LIFETIME: seconds(60, 7 * 86400).default(3600),
  /** Lifetime of an authorization code, in seconds (at most 60: RFC 6749 §4.1.2 says short). */
  CODE_TTL: seconds(5, 60).default(60),
  /** Seconds after a refresh token's rotation during which the same refresh is answered again instead of revoking the grant (RFC 9700 §4.14.2). */
  REFRESH_GRACE: seconds(0, 300).default(0),
  /** Absolute lifetime of a delegated grant (and so of its refresh tokens), in seconds. Default 30 days. */
  GRANT_MAX_LIFETIME: seconds(300, 10 * 365 * 86400).default(30 * 86400),
  /** A delegated grant unused this long (no code or refresh redeemed) expires, in seconds. Default 14 days. */
  GRANT_IDLE_TIMEOUT: seconds(300, 10 * 365 * 86400).default(14 * 86400),
  /** Lifetime of a person's login session on Grantor's pages, in seconds. Default 8 hours. */
  SESSION_TTL: seconds(60, 30 * 86400).default(8 * 3600),
  /** Requests per minute one client may make to the token, revocation and introspection endpoints, across all instances (0: no limit). */
  RATE_LIMIT_CLIENT: z.coerce.number().int().min(0).max(10_000_000).default(1200),
  /** Requests per minute one address may make to those endpoints, across all instances (0: no limit). */
  RATE_LIMIT_ADDRESS: z.coerce.number().int().min(0).max(10_000_000).default(6000),
  /**
   * Which peers are our own reverse proxies, whose X-Forwarded-For (and -Proto) is believed:
   * `false` (none: the socket peer is the client), `true` (one hop: the socket peer is a proxy),
   * a hop count (`2`: a CDN in front of a load balancer), or a comma-separated list of proxy
   * addresses and CIDRs (`10.0.0.0/8, fd00::/8`). The client address is the right-most
   * X-Forwarded-For address that is not a trusted proxy (see src/http/client-address.ts).
   */
  TRUST_PROXY: z.string().default('false'),
  /** Seconds a client may take to send a request's headers; past it the connection gets 408 and is closed. */
  HEADERS_TIMEOUT: seconds(1, 120).default(5),
  /** Seconds a client may take to send a whole request, headers and body (408 and closed past it). At least HEADERS_TIMEOUT. */
  REQUEST_TIMEOUT: seconds(1, 600).default(10),
  /**
   * Open connections one client address may hold on one process (0: no cap); more are closed at
   * once. Trusted proxies (TRUST_PROXY) are exempt: behind a proxy, cap connections there.
   */
  MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(256),
  /**
   * Port of a separate operations listener for /metrics, /healthz and /readyz (0: a free port).
   * Unset, they are served on PORT beside the OAuth endpoints, where anyone who reaches Grantor
   * can read the metrics (key ids, error counts); set, they are served only there and PORT answers
   * 404 for them.
   */
  OPS_PORT: port.optional(),
  /** Address the operations listener binds (only with OPS_PORT). Default loopback: reachable from this machine only. */
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * DPoP server nonces (RFC 9449 §8): `required` makes every DPoP proof at the token endpoint carry
   * a fresh `nonce` from this server (answered `use_dpop_nonce` with a `DPoP-Nonce` header when it
   * does not), which bounds a proof's life by the server's clock rather than the client's; `off`
   * (default) checks `iat` alone. Nonces are stateless (an HMAC over a 5-minute window with a
   * secret shared through the database), so every instance accepts every instance's nonce.
   */
  DPOP_NONCES: z.enum(['off', 'required']).default('off'),
  /** Largest request body accepted, in bytes (forms and JSON). */
  BODY_LIMIT: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  /** Processes serving on this machine: a number, or `auto` for one per core. They share the port. */
  WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
  /**
   * The nice value (Linux) of each serving process's threads other than its event loop — libuv's
   * pool (signatures, SQLite), the log's writer — once it listens: 0 leaves them as they are. See
   * src/lib/thread-pool.ts.
   */
  HELPER_THREAD_NICE: z.coerce.number().int().min(0).max(19).default(5),
  /**
   * Hosts Grantor may reach past the address checks when it fetches or posts to a URL someone
   * else named (a client_id metadata document, later a jwks_uri or a push receiver): a
   * comma-separated list of `host` or `host:port` (e.g. `apps.internal, localhost:8443`). Without
   * an entry, a URL whose name resolves to a loopback, private (RFC 1918, fc00::/7), link-local
   * (169.254/16, fe80::/10, cloud metadata services), unspecified, multicast or otherwise special
   * address is refused. https is required either way. Default: none.
   */
  OUTBOUND_ALLOWED_HOSTS: z.string().default(''),
  /** Seconds one outbound fetch may take in all (connect to last byte) before it is abandoned. */
  OUTBOUND_TIMEOUT: seconds(1, 30).default(5),
  /**
   * Client ID Metadata Documents (an app names itself by an https URL whose JSON document Grantor
   * fetches): `on` (default), `off`, or a comma-separated list of domains whose URLs are accepted
   * (a domain admits its subdomains: `example.com` admits `apps.example.com`).
   */
  CLIENT_METADATA_DOCUMENTS: z.string().default('on'),
  /**
   * Dynamic client registration (RFC 7591, with RFC 7592 management) at /oauth/register: `off`
   * (default: not served, and the metadata has no registration_endpoint), `token` (the request
   * carries an initial access token an admin minted: POST /admin/registration-tokens or `grantor
   * registration-tokens create`), or `open` (anyone may register). Registered clients are public
   * or private_key_jwt, use authorization_code (+ refresh_token), and get only the scopes resources
   * opened to clients nobody vetted (`dynamic_client_scopes`).
   */
  REGISTRATION: z.enum(['off', 'token', 'open']).default('off'),
  /** Registrations one client address may make per hour, counted in the database across instances (0: no limit). */
  REGISTRATION_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(20),
  /** Most self-registered clients that may exist at once; past it registration answers 403 until the reaper or an admin frees room (0: no cap). */
  REGISTRATION_MAX_CLIENTS: z.coerce.number().int().min(0).max(100_000_000).default(10_000),
  /** A self-registered client that has held no grant this long (seconds, counted from its registration) is deleted. Default 7 days. */
  REGISTRATION_IDLE_TTL: seconds(3600, 10 * 365 * 86400).default(7 * 86400),
  /**
   * Shared Signals (issue #13, src/ssf/): seconds a long poll (RFC 8936 §2.4) is held when the
   * stream has nothing to deliver, before it answers `{"sets":{}}`. Receivers should wait longer.
   */
  SSF_LONG_POLL_TIMEOUT: seconds(1, 300).default(30),
  /**
   * Milliseconds between each instance's looks at the database for events made on other instances
   * (for its waiting long polls and push streams); an event made on this instance goes at once.
   * Only runs while the instance holds a long poll or push streams exist.
   */
  SSF_CHECK_INTERVAL: z.coerce.number().int().min(10).max(60_000).default(100),
  /** Longest wait, in seconds, between two attempts to push one event (exponential backoff with jitter up to this). */
  SSF_PUSH_RETRY_MAX: seconds(1, 86400).default(300),
  /** Streams one client may have; one more is refused (409 conflict). */
  SSF_MAX_STREAMS_PER_CLIENT: z.coerce.number().int().min(0).max(1000).default(10),
  /** Streams in all. */
  SSF_MAX_STREAMS: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  /** pino log level. */
  LOG_LEVEL: logLevel.default('info'),
});

export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'pg'; connectionString: string };

export interface Config {
  port: number;
  host: string;
  /** The issuer identifier exactly as configured: `iss` of every token, `issuer` of the metadata. */
  issuer: string;
  /** The issuer without a trailing slash: the base of every endpoint URL. */
  baseUrl: string;
  database: DatabaseConfig;
  keysDir: string;
  keyEncryptionSecret: string | undefined;
  keyRotationInterval: number;
  /** Seconds between a key's publication and its first signature. */
  keyPublicationDelay: number;
  /** Seconds a superseded key stays published after its successor activates. */
  keyRetention: number;
  accessTokenTtl: number;
  jwksMaxAge: number;
  statusListTtl: number;
  statusListLifetime: number;
  codeTtl: number;
  refreshGrace: number;
  grantMaxLifetime: number;
  grantIdleTimeout: number;
  sessionTtl: number;
  bodyLimit: number;
  /** RFC 9449 §8: whether DPoP proofs at the token endpoint must carry a server nonce. */
  dpopNonces: 'off' | 'required';
  rateLimitClient: number;
  rateLimitAddress: number;
  trustProxy: TrustProxy;
  /** Milliseconds for a request's headers, and for the whole request. */
  headersTimeout: number;
  requestTimeout: number;
  maxConnectionsPerAddress: number;
  /** The operations listener (/metrics, /healthz, /readyz), when it is separate from PORT. */
  ops: { port: number; host: string } | undefined;
  logLevel: z.infer<typeof logLevel>;
  workers: number;
  /** HELPER_THREAD_NICE: the nice value of a serving process's threads besides its event loop (0: unchanged). */
  helperThreadNice: number;
  /** Fetches of URLs someone else named (src/outbound/). */
  outbound: { allowedHosts: ReadonlySet<string>; timeoutMs: number };
  /** CLIENT_METADATA_DOCUMENTS: off, on for any domain (`domains` undefined), or on for the listed domains. */
  clientMetadataDocuments: { enabled: boolean; domains: string[] | undefined };
  /** REGISTRATION and its abuse controls (RFC 7591). */
  registration: { policy: 'off' | 'token' | 'open'; perAddressPerHour: number; maxClients: number; idleTtl: number };
  /** The Shared Signals transmitter (SSF_* settings); times in milliseconds, the retry cap in seconds. */
  ssf: { longPollTimeoutMs: number; checkIntervalMs: number; pushRetryMax: number; maxStreamsPerClient: number; maxStreams: number };
}

/** TRUST_PROXY: how many hops are our proxies (0: none, the peer is the client), or which addresses are. */
export type TrustProxy = { hops: number } | { proxies: string[] };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.REQUEST_TIMEOUT < e.HEADERS_TIMEOUT) {
    throw new ConfigError('invalid configuration:\n  REQUEST_TIMEOUT: must be at least HEADERS_TIMEOUT (the headers are part of the request)');
  }
  if (e.OPS_PORT !== undefined && e.OPS_PORT !== 0 && e.OPS_PORT === e.PORT) {
    throw new ConfigError('invalid configuration:\n  OPS_PORT: must differ from PORT');
  }
  const issuer = parseIssuer(e.ISSUER ?? `http://localhost:${e.PORT}`);
  return {
    port: e.PORT,
    host: e.HOST,
    issuer,
    baseUrl: issuer.replace(/\/+$/, ''),
    database: parseDatabaseUrl(e.DATABASE_URL),
    keysDir: path.resolve(e.KEYS_DIR),
    keyEncryptionSecret: e.KEY_ENCRYPTION_SECRET,
    keyRotationInterval: e.KEY_ROTATION_INTERVAL,
    // A resource server caching the JWKS for JWKS_MAX_AGE must have seen a key before it signs
    // (plus the 5 s instances take to notice a rotation, plus a margin).
    keyPublicationDelay: Math.max(e.KEY_PUBLICATION_DELAY ?? 0, e.JWKS_MAX_AGE + 10),
    // A superseded key signed tokens up to its successor's activation; they live at most a day
    // (the largest access token lifetime), status list tokens STATUS_LIST_LIFETIME.
    keyRetention: Math.max(e.ACCESS_TOKEN_TTL, 86400, e.STATUS_LIST_LIFETIME) + e.JWKS_MAX_AGE,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    jwksMaxAge: e.JWKS_MAX_AGE,
    statusListTtl: e.STATUS_LIST_TTL,
    statusListLifetime: Math.max(e.STATUS_LIST_LIFETIME, 2 * e.STATUS_LIST_TTL),
    codeTtl: e.CODE_TTL,
    refreshGrace: e.REFRESH_GRACE,
    grantMaxLifetime: e.GRANT_MAX_LIFETIME,
    grantIdleTimeout: e.GRANT_IDLE_TIMEOUT,
    sessionTtl: e.SESSION_TTL,
    bodyLimit: e.BODY_LIMIT,
    dpopNonces: e.DPOP_NONCES,
    rateLimitClient: e.RATE_LIMIT_CLIENT,
    rateLimitAddress: e.RATE_LIMIT_ADDRESS,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    headersTimeout: e.HEADERS_TIMEOUT * 1000,
    requestTimeout: e.REQUEST_TIMEOUT * 1000,
    maxConnectionsPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
    ops: e.OPS_PORT === undefined ? undefined : { port: e.OPS_PORT, host: e.OPS_HOST },
    logLevel: e.LOG_LEVEL,
    workers: e.WORKERS === 'auto' ? os.availableParallelism() : e.WORKERS,
    helperThreadNice: e.HELPER_THREAD_NICE,
    outbound: { allowedHosts: parseHostList(e.OUTBOUND_ALLOWED_HOSTS), timeoutMs: e.OUTBOUND_TIMEOUT * 1000 },
    clientMetadataDocuments: parseMetadataDocuments(e.CLIENT_METADATA_DOCUMENTS),
    registration: { policy: e.REGISTRATION, perAddressPerHour: e.REGISTRATION_RATE_LIMIT, maxClients: e.REGISTRATION_MAX_CLIENTS, idleTtl: e.REGISTRATION_IDLE_TTL },
    ssf: {
      longPollTimeoutMs: e.SSF_LONG_POLL_TIMEOUT * 1000,
      checkIntervalMs: e.SSF_CHECK_INTERVAL,
      pushRetryMax: e.SSF_PUSH_RETRY_MAX,
      maxStreamsPerClient: e.SSF_MAX_STREAMS_PER_CLIENT,
      maxStreams: e.SSF_MAX_STREAMS,
    },
  };
}

// RFC 8414 §2: the issuer is a URL using https with no query or fragment; http is allowed for
// loopback development only.
function parseIssuer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`invalid configuration:\n  ISSUER: not a URL: ${raw}`);
  }
  if (url.search || url.hash || raw.includes('#') || raw.includes('?')) {
    throw new ConfigError('invalid configuration:\n  ISSUER: must have no query or fragment (RFC 8414 §2)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('invalid configuration:\n  ISSUER: must be an https URL (http only for development)');
  }
  // RFC 8414 §3.3: the metadata's issuer is identical to the configured one, so keep it as given.
  return raw;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function parseHostList(raw: string): Set<string> {
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const entry of hosts) {
    const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = m?.[1].replace(/^\[|\]$/g, '') ?? '';
    if (!m || !(HOST.test(host) || isIP(host)) || (m[2] !== undefined && Number(m[2]) > 65535)) {
      throw new ConfigError(`invalid configuration:\n  OUTBOUND_ALLOWED_HOSTS: ${JSON.stringify(entry)} is not a host or host:port`);
    }
  }
  return new Set(hosts);
}

function parseMetadataDocuments(raw: string): Config['clientMetadataDocuments'] {
  const value = raw.trim().toLowerCase();
  if (value === 'on' || value === '') return { enabled: true, domains: undefined };
  if (value === 'off') return { enabled: false, domains: undefined };
  const domains = value.split(',').map((d) => d.trim()).filter(Boolean);
  for (const d of domains) {
    if (!HOST.test(d)) throw new ConfigError(`invalid configuration:\n  CLIENT_METADATA_DOCUMENTS: ${JSON.stringify(d)} is not a domain (use on, off, or domains separated by commas)`);
  }
  return { enabled: true, domains };
}

function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase();
  if (value === 'false' || value === '') return { hops: 0 };
  if (value === 'true') return { hops: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 32) throw new ConfigError('invalid configuration:\n  TRUST_PROXY: a hop count is at most 32');
    return { hops };
  }
  const proxies = value.split(',').map((entry) => entry.trim());
  for (const entry of proxies) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new ConfigError(`invalid configuration:\n  TRUST_PROXY: ${JSON.stringify(entry)} is not an address or CIDR (use true, false, a hop count, or addresses/CIDRs separated by commas)`);
    }
  }
  return { proxies };
}

function parseDatabaseUrl(raw: string | undefined): DatabaseConfig {
  if (raw === undefined || raw === '') return { client: 'sqlite', filename: path.resolve('db/grantor.sqlite') };
  if (/^postgres(ql)?:\/\//.test(raw)) return { client: 'pg', connectionString: raw };
  if (raw === 'sqlite::memory:' || raw === ':memory:') return { client: 'sqlite', filename: ':memory:' };
  if (raw.startsWith('sqlite:')) return { client: 'sqlite', filename: path.resolve(raw.slice('sqlite:'.length)) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new ConfigError(`invalid configuration:\n  DATABASE_URL: unsupported scheme in ${raw.split(':')[0]}:// (use sqlite: or postgres://)`);
  }
  return { client: 'sqlite', filename: path.resolve(raw) };
}

/** The database location for the log: a PostgreSQL URL as `scheme://host[:port]/database`, no user, password or options. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.client !== 'pg') return `sqlite:${database.filename}`;
  // Everything up to the last @ of the authority is credentials (pg accepts an unescaped @ in a
  // password), and the query may carry `password=`: the line keeps neither.
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)/i.exec(database.connectionString);
  if (!m) return 'postgres://***';
  const host = m[2].slice(m[2].lastIndexOf('@') + 1);
  return `${m[1]}${m[2].includes('@') ? '***@' : ''}${host}${m[3]}`;
}

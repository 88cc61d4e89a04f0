/**
 * The registry: builds every shared dependency once, from the configuration, and hands them out
 * explicitly. No module keeps state of its own.
 */
import { fileURLToPath } from 'node:url';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';
import { openKeyRing, type KeyRing, type SigningKey } from './keys/key-ring.js';
import { batchedOutput } from './lib/batched-output.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createRateLimits, type RateLimits } from './http/rate-limit.js';
import { randomId, randomToken } from './lib/random.js';
import { forgetInstance, heartbeat, liveInstances } from './store/instances.js';
import { revocationListVersion } from './store/revocations.js';
import { createLoginLimiter, type LoginLimiter } from './pages/login-limiter.js';
import { createStatusList, type StatusList } from './revocation/status-list.js';
import { createReadCache, type ReadCache } from './store/read-cache.js';
import { createRotationBatcher, type RotationBatcher } from './store/rotate-refresh-tokens.js';
import { createProofKeyCache, type ProofKeyCache } from './resource-server/dpop-proof.js';
import { pruneExpired, type PruneRetention } from './store/prune.js';
import { serverSecret } from './store/server-secrets.js';
import { migrate, openDb, startWalCheckpoints, type Db } from './store/db.js';
import { openHotReads, type HotReads } from './store/hot-reads.js';
import { createDocumentCache } from './outbound/document-cache.js';
import { fetchDocument } from './outbound/fetch-document.js';
import { MAX_DOCUMENT_BYTES, withMetadataDocuments } from './oauth/client-metadata-document.js';
import { createClientKeys, MAX_JWKS_BYTES, type ClientKeys } from './oauth/client-keys.js';
import { loadKeyEncryptionKey, secretSealing } from './keys/sealing.js';
import { createDispatcher, type Dispatcher } from './ssf/dispatcher.js';
import { createVerifiedTokens, type VerifiedTokens } from './oauth/accept-access-token.js';

export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  keyRing: KeyRing;
  /** Starts a key rotation: a new key, published now, signing after the publication delay. */
  rotateKeys(): Promise<SigningKey>;
  statusList: StatusList;
  /**
   * Cached reads of clients, resources and standing grants (see store/read-cache.ts); a client_id
   * that is an https URL is answered from its metadata document (oauth/client-metadata-document.ts).
   */
  readCache: ReadCache;
  /** Grantor's own access tokens already verified, with the key set they verified against (oauth/accept-access-token.ts). */
  verifiedTokens: VerifiedTokens;
  /** Refresh token rotations, committed in groups (group commit). */
  rotations: RotationBatcher;
  /** The refresh grant's read, off the writer's path (store/hot-reads.ts). */
  reads: HotReads;
  /** Server-wide secrets, shared by every instance through the database. */
  secrets: { refreshSuccessor: string; dpopNonce: string };
  /** private_key_jwt clients' public keys: registered, or fetched from their jwks_uri and cached. */
  clientKeys: ClientKeys;
  /** RFC 9449: DPoP proof keys already imported, by algorithm and thumbprint (bounded). */
  dpopProofKeys: ProofKeyCache;
  /** Per-client and per-address limits, shared out among the live instances. */
  rateLimits: RateLimits;
  /** Prometheus metrics. */
  metrics: Metrics;
  /** Failed-login counters of the pages. */
  loginLimiter: LoginLimiter;
  /** The Shared Signals event deliverer of this instance: wakes long polls, pushes (src/ssf/dispatcher.ts). */
  ssf: Dispatcher;
  /** The key-encryption key (KEY_ENCRYPTION_SECRET), for secrets kept sealed in the database. */
  sealingKey: Buffer;
  /** Closes the database pool. */
  close(): Promise<void>;
}

export interface BuildDepsOptions {
  clock?: Clock;
  logger?: Logger;
}

/**
 * Log lines are handed to the writer thread in batches of at least this many characters… Each
 * hand-over wakes that thread (a futex call) and copies the batch into shared memory: at 16 KB the
 * hand-overs took ~2.7 % of the event loop's busy time under the bench's load, at 64 KB ~1 %.
 */
const LOG_BATCH_BYTES = 65_536;
/** …or this long after the first line of a batch, so a quiet server's lines still appear promptly. */
const LOG_FLUSH_MS = 200;

/**
 * Where the log goes by default: stdout, written by a worker thread (a pino transport running
 * lib/log-writer.ts) fed through shared memory in batches (lib/batched-output.ts). The event loop only
 * formats a line and, once per batch, copies the batch there: a slow reader of stdout never stalls a
 * request. On `exit` (after `process.exit()` or an uncaught exception) the waiting batch is handed on
 * and pino flushes the thread, so a crash loses no line already logged; only a death that runs no
 * code of ours (kill -9, V8's fatal out-of-memory abort, a native crash) can lose the last 200 ms.
 * A broken stdout (EPIPE) ends the logging, never the process.
 */
function stdoutInAWorker(): DestinationStream {
  let broken = false;
  // Made first, so that its `exit` handler hands the last batch on before pino's flushes the thread.
  const batches = batchedOutput({
    sink: (chunk) => {
      if (!broken) writer.write(chunk);
    },
    batchBytes: LOG_BATCH_BYTES,
    flushMs: LOG_FLUSH_MS,
  });
  const writer = pino.transport({ target: fileURLToPath(new URL('./lib/log-writer.js', import.meta.url)), options: { fd: 1 } });
  writer.on('error', () => {
    broken = true;
  });
  return batches;
}

/**
 * The JSON-lines logger (pino), writing to `destination` (default: stdout from a worker thread, see
 * stdoutInAWorker). Belt and braces: the names below never carry a value worth logging
 * (authorization codes, secrets, passwords, refresh tokens, Authorization headers), so they are
 * redacted wherever they appear, even one level down. (Access-log lines, whose fixed shape carries
 * none of them, skip the redaction: http/access-log.ts.)
 */
export function createLogger(level: string, destination: DestinationStream = stdoutInAWorker()): Logger {
  const names = ['client_secret', 'client_assertion', 'password', 'refresh_token', 'code', 'authorization'];
  return pino(
    {
      level,
      // `code` is an authorization code here; an OAuth error is logged under `error` (issue #10 item 10).
      redact: { paths: [...names, ...names.map((n) => `*.${n}`), '*.headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

/** How often each instance looks for rotations made elsewhere, and whether its own schedule is due. */
const KEY_POLL_MS = 5000;
const ROTATION_CHECK_MS = 60_000;
/** How often each instance deletes what can no longer matter (see store/prune.ts). */
const PRUNE_MS = 10 * 60_000;
/** Instances say they are alive this often; one silent for three beats no longer counts. */
const HEARTBEAT_MS = 5000;

export async function buildDeps(config: Config, opts: BuildDepsOptions = {}): Promise<Deps & { keyGenerated: boolean; keyEncryption: string }> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const db = openDb(config.database, logger);
  let reads: HotReads | undefined;
  let stopCheckpoints: (() => Promise<void>) | undefined;
  try {
    await migrate(db);
    const keys = await openKeyRing({ db, clock, config });
    const instanceId = randomId();
    const rateLimits = createRateLimits({ perClient: config.rateLimitClient, perAddress: config.rateLimitAddress });
    const beat = async () => {
      await heartbeat(db, instanceId, clock.now());
      rateLimits.setInstances(await liveInstances(db, clock.now(), (3 * HEARTBEAT_MS) / 1000));
    };
    await beat();
    const ring = keys.ring;
    // Opened after the migrations: its readers only read the schema they made.
    reads = openHotReads(config.database, db);
    stopCheckpoints = await startWalCheckpoints(config.database, db);
    const sealingKey = (await loadKeyEncryptionKey({ secret: config.keyEncryptionSecret, keysDir: config.keysDir })).key;
    const ssf = createDispatcher({ db, clock, keyRing: ring, logger, config, sealingKey });
    const statusList = createStatusList({ db, clock, keyRing: ring, config });
    const sealing = secretSealing(sealingKey);
    const secrets = {
      refreshSuccessor: await serverSecret(db, 'refresh-successor', () => randomToken(32), sealing, clock.now()),
      dpopNonce: await serverSecret(db, 'dpop-nonce', () => randomToken(32), sealing, clock.now()),
    };
    // Background work of every instance; started last, so a failed start leaves no timer behind.
    const every = (ms: number, what: string, work: () => Promise<unknown>) =>
      setInterval(() => work().catch((err) => logger.error({ err }, `${what} failed`)), ms).unref();
    const timers = [
      every(KEY_POLL_MS, 'reloading signing keys', () => ring.refresh()),
      every(ROTATION_CHECK_MS, 'scheduled key rotation', () => rotateWhenDue(ring, keys.rotate, config, clock)),
      every(HEARTBEAT_MS, 'instance heartbeat', beat),
      every(PRUNE_MS, 'pruning', async () => {
        const counts = await pruneExpired(db, clock.now(), pruneRetention(config), config.grantIdleTimeout);
        logger.info({ pruned: counts }, 'pruned expired rows');
      }),
    ];
    return {
      config,
      db,
      clock,
      logger,
      keyRing: ring,
      rotateKeys: keys.rotate,
      statusList,
      readCache: withMetadataDocuments(createReadCache(db), {
        config,
        clock,
        documents: createDocumentCache(METADATA_DOCUMENT_CACHE(clock)),
        fetch: (url) => fetchDocument(url, { ...config.outbound, maxBytes: MAX_DOCUMENT_BYTES }),
        refused: (clientId, reason) => logger.info({ client_id: clientId, reason }, 'client metadata document refused'),
      }),
      verifiedTokens: createVerifiedTokens(),
      secrets,
      rotations: createRotationBatcher(db),
      reads,
      clientKeys: createClientKeys({
        documents: createDocumentCache(METADATA_DOCUMENT_CACHE(clock)),
        fetch: (url) => fetchDocument(url, { ...config.outbound, maxBytes: MAX_JWKS_BYTES, accept: 'application/jwk-set+json, application/json' }),
        now: () => clock.now(),
      }),
      dpopProofKeys: createProofKeyCache(),
      loginLimiter: createLoginLimiter({ db, clock }),
      ssf,
      sealingKey,
      rateLimits,
      metrics: createMetrics({
        keys: () => ring.keys(),
        revocationCount: async () => (await revocationListVersion(db)).count,
        now: () => clock.now(),
      }),
      keyGenerated: keys.generated,
      keyEncryption: keys.encryption,
      close: async () => {
        ssf.stop();
        for (const t of timers) clearInterval(t);
        await forgetInstance(db, instanceId).catch(() => undefined);
        await reads?.close();
        await stopCheckpoints?.();
        await db.destroy();
      },
    };
  } catch (err) {
    await reads?.close();
    await stopCheckpoints?.();
    await db.destroy();
    throw err;
  }
}

/**
 * Metadata documents and clients' JWK Sets (a cache each) are kept as their Cache-Control says, between one minute and a day (five
 * minutes without max-age); a failed fetch is remembered 30 s. At most 1000 URLs are held, so
 * each URL costs one fetch per cache lifetime, not one per request; at most 32 fetches run at once.
 */
const METADATA_DOCUMENT_CACHE = (clock: Clock) => ({ maxEntries: 1000, minTtl: 60, maxTtl: 86400, defaultTtl: 300, failureTtl: 30, maxInFlight: 32, now: () => clock.now() });

/** KEY_ROTATION_INTERVAL: rotate when the active key is that old and no successor is on its way. */
async function rotateWhenDue(ring: KeyRing, rotate: () => Promise<SigningKey>, config: Config, clock: Clock): Promise<void> {
  if (config.keyRotationInterval === 0) return;
  await ring.refresh();
  const keys = ring.keys();
  if (keys.some((k) => k.state === 'next')) return;
  if (ring.signingKey().activatesAt + config.keyRotationInterval <= clock.now()) await rotate();
}

/** Access tokens live at most a day (the largest lifetime a resource may set); the feed keeps a week. */
export function pruneRetention(config: Config): PruneRetention {
  return { maxTokenLifetime: Math.max(config.accessTokenTtl, 86400), revocationFeed: 7 * 86400, spentRefreshTokens: 7 * 86400, idleRegisteredClients: config.registration.idleTtl };
}

/**
 * The registry: builds every shared dependency once, from the configuration, and hands them out
 * explicitly. No module keeps state of its own.
 */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { loadKeyRing, type KeyRing } from './keys/key-ring.js';
import { systemClock, type Clock } from './lib/clock.js';
import { randomToken } from './lib/random.js';
import { createLoginLimiter, type LoginLimiter } from './pages/login-limiter.js';
import { createStatusList, type StatusList } from './revocation/status-list.js';
import { createReadCache, type ReadCache } from './store/read-cache.js';
import { serverSecret } from './store/server-secrets.js';
import { migrate, openDb, type Db } from './store/db.js';

export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  keyRing: KeyRing;
  statusList: StatusList;
  /** Cached reads of clients, resources and standing grants (see store/read-cache.ts). */
  readCache: ReadCache;
  /** Server-wide secrets, shared by every instance through the database. */
  secrets: { refreshSuccessor: string };
  /** Failed-login counters of the pages. */
  loginLimiter: LoginLimiter;
  /** Closes the database pool. */
  close(): Promise<void>;
}

export interface BuildDepsOptions {
  clock?: Clock;
  logger?: Logger;
}

export async function buildDeps(config: Config, opts: BuildDepsOptions = {}): Promise<Deps & { keyGenerated: boolean }> {
  const logger =
    opts.logger ??
    pino({
      level: config.logLevel,
      // Belt and braces: these names never carry a value worth logging.
      redact: { paths: ['client_secret', '*.client_secret', 'password', '*.password', 'refresh_token', '*.refresh_token', 'code', '*.code', 'authorization', '*.authorization'], censor: '[redacted]' },
    });
  const clock = opts.clock ?? systemClock;
  const db = openDb(config.database);
  try {
    await migrate(db);
    const { ring, generated } = await loadKeyRing(config.keysDir, clock.now);
    const statusList = createStatusList({ db, clock, keyRing: ring, config });
    const secrets = { refreshSuccessor: await serverSecret(db, 'refresh-successor', () => randomToken(32), clock.now()) };
    return {
      config,
      db,
      clock,
      logger,
      keyRing: ring,
      statusList,
      readCache: createReadCache(db),
      secrets,
      loginLimiter: createLoginLimiter(),
      keyGenerated: generated,
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

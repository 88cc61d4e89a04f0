import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';

/** What a command may touch: the database, the clock, the configuration. */
export interface CliDeps {
  db: Db;
  clock: Clock;
  config: Config;
  /**
   * The CLI holds no status list of its own: servers see its revocations in the database within
   * a second, so invalidating is a no-op here.
   */
  statusList: { invalidate(): void };
  /** Likewise: the CLI caches nothing; its changes bump the change epoch the servers poll. */
  readCache: { invalidate(): void };
  /** Likewise: the servers' event dispatchers find the CLI's revocation events within SSF_CHECK_INTERVAL. */
  ssf: { wake(streamIds: string[]): void };
}

/** What every command file gets: a way to open the database and to print. */
export interface CliContext {
  withDb<T>(fn: (deps: CliDeps) => Promise<T>): Promise<T>;
  print(value: unknown, asJson: boolean | undefined, text: (v: any) => string): void;
  out(text: string): void;
}

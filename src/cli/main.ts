/**
 * The `grantor` command: the admin API's verbs from a shell, calling the same registry functions
 * against the database named by the same configuration as the server.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig, ConfigError } from '../config.js';
import { OAuthError } from '../errors.js';
import { systemClock } from '../lib/clock.js';
import { migrate, openDb, type Db } from '../store/db.js';
import { clientCommands } from './clients.js';
import { registrationTokenCommands } from './registration-tokens.js';
import type { CliContext, CliDeps } from './context.js';
import { grantCommands } from './grants.js';
import { keyCommands } from './keys.js';
import { resourceCommands } from './resources.js';
import { userCommands } from './users.js';

interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, io: CliIo = defaultIo): Promise<number> {
  let db: Db | undefined;
  const context: CliContext = {
    async withDb<T>(fn: (deps: CliDeps) => Promise<T>): Promise<T> {
      const config = loadConfig(env);
      db = openDb(config.database);
      await migrate(db);
      return fn({ db, clock: systemClock, config, statusList: { invalidate() {} }, readCache: { invalidate() {} }, ssf: { wake() {} } });
    },
    print(value, asJson, text) {
      io.out(asJson ? JSON.stringify(value, null, 2) : text(value));
    },
    out: (text) => io.out(text),
  };

  const program = new Command('grantor')
    .description('Administer a Grantor token service (reads DATABASE_URL, ISSUER… like the server).')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  clientCommands(program, context);
  registrationTokenCommands(program, context);
  resourceCommands(program, context);
  grantCommands(program, context);
  userCommands(program, context);
  keyCommands(program, context);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof OAuthError) io.err(`grantor: ${err.code}: ${err.description}`);
    else if (err instanceof ConfigError) io.err(`grantor: ${err.message}`);
    else io.err(`grantor: ${(err as Error).message}`);
    return err instanceof OAuthError && err.code === 'not_found' ? 3 : 1;
  } finally {
    await db?.destroy();
  }
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

/**
 * The `grantor` command: the admin API's verbs from a shell, calling the same registry functions
 * against the database named by the same configuration as the server.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig, ConfigError } from '../config.js';
import { OAuthError } from '../errors.js';
import { systemClock } from '../lib/clock.js';
import * as clients from '../registry/clients.js';
import * as resources from '../registry/resources.js';
import { migrate, openDb, type Db } from '../store/db.js';

interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const list = (v: string) => v.split(/[\s,]+/).filter(Boolean);

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, io: CliIo = defaultIo): Promise<number> {
  let db: Db | undefined;
  const withDb = async <T>(fn: (deps: { db: Db; clock: typeof systemClock; config: ReturnType<typeof loadConfig> }) => Promise<T>): Promise<T> => {
    const config = loadConfig(env);
    db = openDb(config.database);
    await migrate(db);
    return fn({ db, clock: systemClock, config });
  };
  const print = (value: unknown, asJson: boolean | undefined, text: (v: any) => string) => {
    io.out(asJson ? JSON.stringify(value, null, 2) : text(value));
  };

  const program = new Command('grantor')
    .description('Administer a Grantor token service (reads DATABASE_URL, ISSUER… like the server).')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const clientsCmd = program.command('clients').description('Register and manage OAuth clients.');
  clientsCmd
    .command('create')
    .description('Register a client; prints the client secret once.')
    .requiredOption('--name <name>', 'display name')
    .option('--type <type>', 'confidential | public', 'confidential')
    .option('--grant-types <list>', 'comma- or space-separated grant types', list)
    .option('--redirect-uris <list>', 'comma- or space-separated redirect URIs', list)
    .option('--scopes <list>', 'comma- or space-separated scopes the client may ask for', list)
    .option('--json', 'print JSON')
    .action(async (o) => {
      const created = await withDb((d) =>
        clients.createClient(d, { name: o.name, type: o.type, grant_types: o.grantTypes, redirect_uris: o.redirectUris, scopes: o.scopes }),
      );
      print(created, o.json, (c) => `client_id:     ${c.client_id}\n${c.client_secret ? `client_secret: ${c.client_secret}\n(shown once: store it now)` : '(public client: no secret)'}`);
    });
  clientsCmd
    .command('list')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => clients.listClients(d, { limit: o.limit, cursor: o.cursor }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) =>
        p.items.map((c: clients.ClientView) => `${c.client_id}  ${c.type.padEnd(12)} ${c.disabled ? 'disabled ' : ''}${c.name}  [${c.scopes.join(' ')}]`).join('\n') + (p.next_cursor ? `\n(more: --cursor ${p.next_cursor})` : ''),
      );
    });
  clientsCmd
    .command('get <client_id>')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      print(await withDb((d) => clients.getClient(d, id)), o.json, (c) => JSON.stringify(c, null, 2));
    });
  clientsCmd
    .command('update <client_id>')
    .option('--name <name>')
    .option('--grant-types <list>', 'replaces the grant types', list)
    .option('--redirect-uris <list>', 'replaces the redirect URIs', list)
    .option('--scopes <list>', 'replaces the scopes', list)
    .option('--disable', 'the client can no longer authenticate')
    .option('--enable')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      const disabled = o.disable ? true : o.enable ? false : undefined;
      const updated = await withDb((d) =>
        clients.updateClient(d, id, { name: o.name, grant_types: o.grantTypes, redirect_uris: o.redirectUris, scopes: o.scopes, disabled }),
      );
      print(updated, o.json, (c) => JSON.stringify(c, null, 2));
    });
  clientsCmd
    .command('delete <client_id>')
    .action(async (id) => {
      await withDb((d) => clients.deleteClient(d, id));
      io.out(`deleted ${id}`);
    });
  clientsCmd
    .command('rotate-secret <client_id>')
    .description('Replace the client secret; the old one stops working at once.')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      print(await withDb((d) => clients.rotateClientSecret(d, id)), o.json, (c) => `client_secret: ${c.client_secret}\n(shown once: store it now)`);
    });

  const resourcesCmd = program.command('resources').description('Register the APIs (resources) tokens are for.');
  resourcesCmd
    .command('create')
    .requiredOption('--identifier <uri>', 'absolute URI: the aud of its tokens')
    .requiredOption('--name <name>', 'display name')
    .option('--scope <name[=description]>', 'a scope (repeat the option for several)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--access-token-ttl <seconds>', 'access token lifetime for this API')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const created = await withDb((d) =>
        resources.createResource(d, { identifier: o.identifier, name: o.name, scopes: parseScopeOptions(o.scope), access_token_ttl: o.accessTokenTtl === undefined ? undefined : Number(o.accessTokenTtl) }),
      );
      print(created, o.json, (r) => `id: ${r.id}\nidentifier: ${r.identifier}`);
    });
  resourcesCmd
    .command('list')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => resources.listResources(d, { limit: o.limit, cursor: o.cursor }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) =>
        p.items.map((r: resources.ResourceView) => `${r.id}  ${r.identifier}  ${r.name}  [${r.scopes.map((s) => s.name).join(' ')}]`).join('\n'),
      );
    });
  resourcesCmd
    .command('get <id>')
    .option('--json', 'print JSON')
    .action(async (id, o) => print(await withDb((d) => resources.getResource(d, id)), o.json, (r) => JSON.stringify(r, null, 2)));
  resourcesCmd
    .command('update <id>')
    .option('--name <name>')
    .option('--scope <name[=description]>', 'replaces the scopes (repeat for several)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--access-token-ttl <seconds>')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      const updated = await withDb((d) =>
        resources.updateResource(d, id, { name: o.name, scopes: o.scope ? parseScopeOptions(o.scope) : undefined, access_token_ttl: o.accessTokenTtl === undefined ? undefined : Number(o.accessTokenTtl) }),
      );
      print(updated, o.json, (r) => JSON.stringify(r, null, 2));
    });
  resourcesCmd
    .command('delete <id>')
    .action(async (id) => {
      await withDb((d) => resources.deleteResource(d, id));
      io.out(`deleted ${id}`);
    });

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

function parseScopeOptions(values: string[]): Array<{ name: string; description: string }> {
  return values.map((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? { name: v, description: '' } : { name: v.slice(0, eq), description: v.slice(eq + 1) };
  });
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

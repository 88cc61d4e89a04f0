import type { Command } from 'commander';
import type { CliContext } from './context.js';
import * as resources from '../registry/resources.js';

/** `grantor resources …` */
export function resourceCommands(program: Command, { withDb, print, out }: CliContext): void {
  const resourcesCmd = program.command('resources').description('Register the APIs (resources) tokens are for.');
  resourcesCmd
    .command('create')
    .requiredOption('--identifier <uri>', 'absolute URI: the aud of its tokens')
    .requiredOption('--name <name>', 'display name')
    .option('--scope <name[=description]>', 'a scope (repeat the option for several)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--access-token-ttl <seconds>', 'access token lifetime for this API')
    .option('--dpop-bound', 'only DPoP-bound access tokens are issued for this API (RFC 9449)')
    .option('--dynamic-client-scope <name>', 'a scope clients nobody vetted (Client ID Metadata Documents) may ask for (repeat for several; default none)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--token-exchange-client <client_id>', 'a client that may exchange tokens for this API (RFC 8693; repeat for several; default none)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--json', 'print JSON')
    .action(async (o) => {
      const created = await withDb((d) =>
        resources.createResource(d, {
          identifier: o.identifier,
          name: o.name,
          scopes: parseScopeOptions(o.scope),
          access_token_ttl: o.accessTokenTtl === undefined ? undefined : Number(o.accessTokenTtl),
          dpop_bound_access_tokens: o.dpopBound,
          dynamic_client_scopes: o.dynamicClientScope,
          token_exchange_clients: o.tokenExchangeClient,
        }),
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
    .option('--dpop-bound', 'only DPoP-bound access tokens for this API (RFC 9449)')
    .option('--no-dpop-bound', 'bearer tokens for this API again')
    .option('--dynamic-client-scope <name>', 'replaces the scopes unvetted clients may ask for (repeat for several)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--no-dynamic-client-scopes', 'unvetted clients may ask for no scope of this API')
    .option('--token-exchange-client <client_id>', 'replaces the clients that may exchange tokens for this API (repeat for several)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--no-token-exchange-clients', 'no client may exchange tokens for this API')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      // --no-dynamic-client-scopes sets o.dynamicClientScopes to false; --dynamic-client-scope lists them.
      const dynamic = o.dynamicClientScopes === false ? [] : o.dynamicClientScope;
      const exchangers = o.tokenExchangeClients === false ? [] : o.tokenExchangeClient;
      const updated = await withDb((d) =>
        resources.updateResource(d, id, {
          name: o.name,
          scopes: o.scope ? parseScopeOptions(o.scope) : undefined,
          access_token_ttl: o.accessTokenTtl === undefined ? undefined : Number(o.accessTokenTtl),
          dpop_bound_access_tokens: o.dpopBound,
          dynamic_client_scopes: dynamic,
          token_exchange_clients: exchangers,
        }),
      );
      print(updated, o.json, (r) => JSON.stringify(r, null, 2));
    });
  resourcesCmd
    .command('delete <id>')
    .action(async (id) => {
      await withDb((d) => resources.deleteResource(d, id));
      out(`deleted ${id}`);
    });

}

function parseScopeOptions(values: string[]): Array<{ name: string; description: string }> {
  return values.map((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? { name: v, description: '' } : { name: v.slice(0, eq), description: v.slice(eq + 1) };
  });
}


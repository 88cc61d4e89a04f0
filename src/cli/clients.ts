import fs from 'node:fs';
import type { Command } from 'commander';
import { OAuthError } from '../errors.js';
import type { CliContext } from './context.js';
import * as blocked from '../registry/blocked-clients.js';
import * as clients from '../registry/clients.js';

const list = (v: string) => v.split(/[\s,]+/).filter(Boolean);

/** A JWK Set read from a file (`--jwks-file`), checked later by the registry's schema. */
function readJwks(file: string | undefined): unknown {
  if (file === undefined) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OAuthError('invalid_request', `--jwks-file: cannot read a JSON JWK Set from ${file} (${(err as Error).message})`);
  }
}

/** `grantor clients …` */
export function clientCommands(program: Command, { withDb, print, out }: CliContext): void {
  const clientsCmd = program.command('clients').description('Register and manage OAuth clients.');
  clientsCmd
    .command('block <client_id>')
    .description('Block a client: a Client ID Metadata Document URL is refused from now on, a registered client is disabled; its grants are revoked.')
    .option('--reason <text>', 'why (kept with the entry)')
    .option('--json', 'print JSON')
    .action(async (clientId, o) => {
      const row = await withDb((d) => blocked.blockClient(d, { client_id: clientId, reason: o.reason }, 'cli'));
      print(row, o.json, (r) => `blocked ${r.client_id}`);
    });
  clientsCmd
    .command('unblock <client_id>')
    .description('Lift a block (its revoked grants stay revoked).')
    .action(async (clientId) => {
      await withDb((d) => blocked.unblockClient(d, clientId));
      out(`unblocked ${clientId}`);
    });
  clientsCmd
    .command('blocked')
    .description('List blocked clients.')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => blocked.listBlockedClients(d, { limit: o.limit, cursor: o.cursor }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) => p.items.map((r: blocked.BlockedClientView) => `${r.client_id}  ${r.reason ?? ''}`).join('\n'));
    });
  clientsCmd
    .command('create')
    .description('Register a client; prints the client secret once.')
    .requiredOption('--name <name>', 'display name')
    .option('--type <type>', 'confidential | public', 'confidential')
    .option('--grant-types <list>', 'comma- or space-separated grant types', list)
    .option('--redirect-uris <list>', 'comma- or space-separated redirect URIs', list)
    .option('--scopes <list>', 'comma- or space-separated scopes the client may ask for', list)
    .option('--dpop-bound', 'the client always uses DPoP: token requests without a proof are refused (RFC 9449)')
    .option('--auth-method <method>', 'client_secret_basic | client_secret_post | private_key_jwt | none (default: a secret for confidential clients, none for public ones)')
    .option('--jwks-uri <url>', 'private_key_jwt: https URL where the client publishes its public keys')
    .option('--jwks-file <path>', 'private_key_jwt: a file holding the client\'s public keys as a JWK Set')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const jwks = readJwks(o.jwksFile);
      const method = o.authMethod ?? (o.jwksUri !== undefined || jwks !== undefined ? 'private_key_jwt' : undefined);
      const created = await withDb((d) =>
        clients.createClient(d, {
          name: o.name,
          type: o.type,
          grant_types: o.grantTypes,
          redirect_uris: o.redirectUris,
          scopes: o.scopes,
          dpop_bound_access_tokens: o.dpopBound,
          token_endpoint_auth_method: method,
          jwks,
          jwks_uri: o.jwksUri,
        }),
      );
      const how = created.token_endpoint_auth_method === 'private_key_jwt' ? '(private_key_jwt: no secret; the client signs assertions with its keys)' : '(public client: no secret)';
      print(created, o.json, (c) => `client_id:     ${c.client_id}\n${c.client_secret ? `client_secret: ${c.client_secret}\n(shown once: store it now)` : how}`);
    });
  clientsCmd
    .command('list')
    .option('--source <source>', 'admin (registered by an admin) | registration (registered themselves, RFC 7591)')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => clients.listClients(d, { limit: o.limit, cursor: o.cursor, source: o.source }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) =>
        p.items.map((c: clients.ClientView) => `${c.client_id}  ${c.type.padEnd(12)} ${c.disabled ? 'disabled ' : ''}${c.source === 'registration' ? 'self-registered ' : ''}${c.name}  [${c.scopes.join(' ')}]`).join('\n') + (p.next_cursor ? `\n(more: --cursor ${p.next_cursor})` : ''),
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
    .option('--dpop-bound', 'the client must use DPoP (RFC 9449)')
    .option('--no-dpop-bound', 'the client may get bearer tokens again')
    .option('--jwks-uri <url>', 'private_key_jwt: replaces the key set URL (and drops registered keys)')
    .option('--jwks-file <path>', 'private_key_jwt: replaces the registered keys (and drops the key set URL)')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      const disabled = o.disable ? true : o.enable ? false : undefined;
      const jwks = readJwks(o.jwksFile);
      const keys = jwks !== undefined ? { jwks, jwks_uri: null } : o.jwksUri !== undefined ? { jwks_uri: o.jwksUri, jwks: null } : {};
      const updated = await withDb((d) =>
        clients.updateClient(d, id, { name: o.name, grant_types: o.grantTypes, redirect_uris: o.redirectUris, scopes: o.scopes, disabled, dpop_bound_access_tokens: o.dpopBound, ...keys }),
      );
      print(updated, o.json, (c) => JSON.stringify(c, null, 2));
    });
  clientsCmd
    .command('delete <client_id>')
    .action(async (id) => {
      await withDb((d) => clients.deleteClient(d, id));
      out(`deleted ${id}`);
    });
  clientsCmd
    .command('rotate-secret <client_id>')
    .description('Replace the client secret; the old one stops working at once.')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      print(await withDb((d) => clients.rotateClientSecret(d, id)), o.json, (c) => `client_secret: ${c.client_secret}\n(shown once: store it now)`);
    });

}

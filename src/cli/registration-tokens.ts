import type { Command } from 'commander';
import type { CliContext } from './context.js';
import * as tokens from '../registry/registration-tokens.js';

/** `grantor registration-tokens …`: initial access tokens for REGISTRATION=token (RFC 7591 §3). */
export function registrationTokenCommands(program: Command, { withDb, print, out }: CliContext): void {
  const cmd = program.command('registration-tokens').description('Mint and revoke initial access tokens for dynamic client registration (REGISTRATION=token).');
  cmd
    .command('create')
    .description('Mint a token; prints it once.')
    .option('--description <text>', 'what the token is for')
    .option('--expires-in <seconds>', 'seconds until it stops working (default: never)', (v) => Number(v))
    .option('--max-uses <n>', 'how many clients it may register (default: no limit)', (v) => Number(v))
    .option('--json', 'print JSON')
    .action(async (o) => {
      const created = await withDb((d) => tokens.createRegistrationToken(d, { description: o.description, expires_in: o.expiresIn, max_uses: o.maxUses }));
      print(created, o.json, (t) => `id:    ${t.id}\ntoken: ${t.token}\n(shown once: give it to the app that registers)`);
    });
  cmd
    .command('list')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => tokens.listRegistrationTokens(d, { limit: o.limit, cursor: o.cursor }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) =>
        p.items
          .map((t: tokens.RegistrationTokenView) => `${t.id}  used ${t.uses}${t.max_uses === null ? '' : `/${t.max_uses}`}${t.revoked_at ? '  revoked' : ''}${t.expires_at ? `  expires ${new Date(t.expires_at * 1000).toISOString()}` : ''}  ${t.description}`)
          .join('\n'),
      );
    });
  cmd
    .command('revoke <id>')
    .description('The token registers no more clients (those it registered stay).')
    .action(async (id) => {
      await withDb((d) => tokens.revokeRegistrationToken(d, id));
      out(`revoked ${id}`);
    });
}

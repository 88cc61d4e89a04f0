import type { Command } from 'commander';
import * as users from '../registry/users.js';
import type { CliContext } from './context.js';
import { readSecretInput } from './read-secret.js';

/** `grantor users …`: people who sign in on Grantor's pages. Passwords come from stdin or a prompt, never argv. */
export function userCommands(program: Command, { withDb, print, out }: CliContext): void {
  const by = `cli:${process.env.USER ?? 'unknown'}`;
  const cmd = program.command('users').description('People who sign in and approve apps.');
  cmd
    .command('create')
    .description('Create a person; the password is read from stdin (or asked for on a terminal).')
    .requiredOption('--username <name>')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const password = await readSecretInput('Password: ');
      const user = await withDb((d) => users.createUser(d, { username: o.username, password }));
      print(user, o.json, (u) => `id: ${u.id}\nusername: ${u.username}`);
    });
  cmd
    .command('list')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => users.listUsers(d, { limit: o.limit, cursor: o.cursor }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) => p.items.map((u: users.UserView) => `${u.id}  ${u.username}${u.disabled ? '  (disabled)' : ''}`).join('\n'));
    });
  cmd
    .command('get <id>')
    .option('--json', 'print JSON')
    .action(async (id, o) => print(await withDb((d) => users.getUser(d, id)), o.json, (u) => JSON.stringify(u, null, 2)));
  cmd
    .command('update <id>')
    .option('--password', 'set a new password, read from stdin (or asked for on a terminal)')
    .option('--disable', 'sign the person out, revoke their grants, refuse logins')
    .option('--enable')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      const password = o.password ? await readSecretInput('New password: ') : undefined;
      const disabled = o.disable ? true : o.enable ? false : undefined;
      print(await withDb((d) => users.updateUser(d, id, { password, disabled }, by)), o.json, (u) => JSON.stringify(u, null, 2));
    });
  cmd
    .command('delete <id>')
    .description('Delete a person after revoking every grant they gave.')
    .action(async (id) => {
      await withDb((d) => users.deleteUser(d, id, by));
      out(`deleted ${id}`);
    });
}

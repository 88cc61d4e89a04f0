import type { Command } from 'commander';
import * as grants from '../revocation/grants.js';
import type { CliContext } from './context.js';

/** `grantor grants …` and `grantor revocations …`: the admin grants API from a shell. */
export function grantCommands(program: Command, { withDb, print }: CliContext): void {
  const by = `cli:${process.env.USER ?? 'unknown'}`;
  const grantsCmd = program.command('grants').description('See and revoke grants (one authorization of one app).');
  grantsCmd
    .command('list')
    .option('--client-id <id>', 'only this client’s grants')
    .option('--user-id <id>', 'only this person’s grants')
    .option('--status <status>', 'active | revoked')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const page = await withDb((d) => grants.listGrantViews(d, { client_id: o.clientId, user_id: o.userId, status: o.status, limit: o.limit, cursor: o.cursor }));
      print({ items: page.items, next_cursor: page.nextCursor }, o.json, (p) =>
        p.items.map((g: grants.GrantView) => `${g.id}  ${g.status.padEnd(8)} client=${g.client_id} user=${g.user_id ?? '-'} ${g.resource} [${g.scope}]`).join('\n') +
        (p.next_cursor ? `\n(more: --cursor ${p.next_cursor})` : ''),
      );
    });
  grantsCmd
    .command('get <id>')
    .option('--json', 'print JSON')
    .action(async (id, o) => print(await withDb((d) => grants.getGrantView(d, id)), o.json, (g) => JSON.stringify(g, null, 2)));
  grantsCmd
    .command('revoke <id>')
    .description('Revoke a grant: every token issued under it stops working (idempotent).')
    .option('--reason <text>', 'kept in the revocation list')
    .option('--json', 'print JSON')
    .action(async (id, o) => {
      const g = await withDb((d) => grants.revokeGrantById(d, id, o.reason ? { reason: o.reason } : {}, by));
      print(g, o.json, (v) => `${v.id} ${v.status}`);
    });

  const revocations = program.command('revocations').description('The revocation list.');
  revocations
    .command('create')
    .description('Revoke every grant of a client or of a person.')
    .option('--client-id <id>')
    .option('--user-id <id>')
    .option('--reason <text>')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const body = o.clientId ? { client_id: o.clientId, reason: o.reason } : { user_id: o.userId, reason: o.reason };
      print(await withDb((d) => grants.revokeMany(d, body, by)), o.json, (r) => `revoked ${r.revoked} grant(s)`);
    });
  revocations
    .command('list')
    .option('--since <seq>', 'entries after this sequence number', '0')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const feed = await withDb((d) => grants.revocationFeed(d, { since: o.since, limit: o.limit }));
      print(feed, o.json, (f) => f.items.map((r: grants.RevocationView) => `${r.seq}  ${r.grant_id}  ${new Date(r.revoked_at * 1000).toISOString()}  ${r.revoked_by}  ${r.reason}`).join('\n'));
    });
}

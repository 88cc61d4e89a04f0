import type { Command } from 'commander';
import { openKeyRing } from '../keys/key-ring.js';
import { listKeys, rotate } from '../keys/views.js';
import type { CliContext } from './context.js';

/** `grantor keys …`: see the signing keys and rotate them (the servers pick it up within seconds). */
export function keyCommands(program: Command, { withDb, print }: CliContext): void {
  const cmd = program.command('keys').description('Signing keys: next → active → retired → removed.');
  cmd
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const view = await withDb(async (d) => listKeys((await openKeyRing(d)).ring));
      print(view, o.json, (v) => v.items.map((k: { kid: string; state: string; activates_at: number; removes_at: number | null }) => `${k.kid}  ${k.state.padEnd(8)} signs from ${new Date(k.activates_at * 1000).toISOString()}${k.removes_at ? `  removed ${new Date(k.removes_at * 1000).toISOString()}` : ''}`).join('\n'));
    });
  cmd
    .command('rotate')
    .description('Publish a new key now; it signs after the publication delay (JWKS_MAX_AGE + 10 s at least).')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const made = await withDb(async (d) => {
        const keys = await openKeyRing(d);
        return rotate(keys.ring, keys.rotate);
      });
      print(made, o.json, (k) => `new key ${k.kid}: published now, signs from ${new Date(k.activates_at * 1000).toISOString()}`);
    });
}

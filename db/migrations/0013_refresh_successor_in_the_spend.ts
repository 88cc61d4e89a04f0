import type { Knex } from 'knex';

// Issue #14 item 2: on SQLite a refresh rotation is one statement. The spend (the conditional UPDATE
// of src/store/rotate-refresh-tokens.ts) also writes what the successor row needs that its
// predecessor does not already hold — `successor_hash`, `successor_scope`, `successor_dpop_jkt` —
// and a trigger stores the successor from the spent row in the same statement, hence in the same
// transaction: a rotation is never spent without its successor, nor its successor stored without
// the spend. The successor's id, grant, client and expiry are the predecessor's `successor_id`,
// `grant_id`, `client_id` and `expires_at`; it was created when the predecessor was used.
// Without BEGIN, INSERT and COMMIT each going to the thread pool in turn (the UPDATE alone, in its
// own transaction), a rotation waits a quarter of the trips. PostgreSQL stores the successor in the
// spend's statement itself (a data-modifying WITH) and leaves these columns empty.
const TRIGGER = 'refresh_tokens_store_successor';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.string('successor_hash', 64).nullable();
    t.text('successor_scope').nullable();
    t.string('successor_dpop_jkt', 64).nullable();
  });
  if (knex.client.config.client === 'pg') return;
  await knex.raw(
    `CREATE TRIGGER ${TRIGGER} AFTER UPDATE OF successor_id ON refresh_tokens ` +
      'WHEN OLD.successor_id IS NULL AND NEW.successor_id IS NOT NULL AND NEW.successor_hash IS NOT NULL BEGIN ' +
      'INSERT INTO refresh_tokens (id, token_hash, grant_id, client_id, scope, created_at, expires_at, dpop_jkt) ' +
      'VALUES (NEW.successor_id, NEW.successor_hash, NEW.grant_id, NEW.client_id, NEW.successor_scope, NEW.used_at, NEW.expires_at, NEW.successor_dpop_jkt); ' +
      'END',
  );
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') await knex.raw(`DROP TRIGGER IF EXISTS ${TRIGGER}`);
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.dropColumn('successor_hash');
    t.dropColumn('successor_scope');
    t.dropColumn('successor_dpop_jkt');
  });
}

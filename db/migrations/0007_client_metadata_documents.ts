import type { Knex } from 'knex';

// Issue #11: apps that name themselves by a URL (Client ID Metadata Documents).
// - Their client_id is an https URL of up to 512 characters (the longest client_id Grantor
//   reads): the columns that record who a grant, code or refresh token belongs to grow from 64
//   to 512. SQLite does not enforce varchar lengths, so only PostgreSQL needs the change.
// - A resource names the scopes that clients nobody vetted may ask for (none by default).
// - Admins block a client by its client_id (a metadata document URL, or a registered client).
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    for (const table of ['grants', 'authorization_codes', 'refresh_tokens']) {
      await knex.raw('ALTER TABLE ?? ALTER COLUMN client_id TYPE varchar(512)', [table]);
    }
  }
  await knex.schema.alterTable('resources', (t) => {
    t.text('dynamic_client_scopes').notNullable().defaultTo('[]'); // JSON string[]
  });
  await knex.schema.createTable('blocked_clients', (t) => {
    t.string('client_id', 512).primary();
    t.string('reason', 200).nullable();
    t.bigInteger('created_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('blocked_clients');
  await knex.schema.alterTable('resources', (t) => {
    t.dropColumn('dynamic_client_scopes');
  });
}

import type { Knex } from 'knex';

// Issue #11 item 2: dynamic client registration (RFC 7591) and its management API (RFC 7592).
// - A self-registered client is a row of `clients` like any other, marked `source =
//   'registration'`; it keeps the hash of its registration access token (RFC 7592 §1.1), a hash
//   of the address it registered from (the per-address registration limit counts by it), and the
//   RFC 7591 §2 metadata Grantor stores but does not act on (client_uri, logo_uri, contacts,
//   software_id, software_version) as JSON.
// - Initial access tokens (RFC 7591 §3, REGISTRATION=token) that admins mint: stored only as a
//   hash, with an optional expiry and number of uses; a conditional update spends a use.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.string('source', 32).nullable();
    t.string('registration_token_hash', 64).nullable();
    t.string('registered_from', 64).nullable();
    t.text('client_metadata').nullable();
    t.index(['source', 'created_at'], 'clients_source_created');
    t.index(['registered_from', 'created_at'], 'clients_registered_from');
  });
  await knex.schema.createTable('registration_tokens', (t) => {
    t.string('id', 64).primary();
    t.string('token_hash', 64).notNullable().unique();
    t.string('description', 200).notNullable().defaultTo('');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').nullable();
    t.integer('max_uses').nullable();
    t.integer('uses').notNullable().defaultTo(0);
    t.bigInteger('revoked_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('registration_tokens');
  await knex.schema.alterTable('clients', (t) => {
    t.dropIndex(['registered_from', 'created_at'], 'clients_registered_from');
    t.dropIndex(['source', 'created_at'], 'clients_source_created');
    t.dropColumn('client_metadata');
    t.dropColumn('registered_from');
    t.dropColumn('registration_token_hash');
    t.dropColumn('source');
  });
}

import type { Knex } from 'knex';

// People, their browser sessions, authorization codes and rotating refresh tokens. Every secret
// (password, session cookie, code, refresh token) is stored only as a hash.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.string('id', 64).primary();
    t.string('username', 64).notNullable().unique();
    t.string('password_hash', 256).notNullable(); // scrypt$N$r$p$salt$hash
    t.boolean('disabled').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('sessions', (t) => {
    t.string('id_hash', 64).primary(); // sha256 of the cookie value
    t.string('user_id', 64).notNullable().index();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable().index();
  });

  await knex.schema.createTable('authorization_codes', (t) => {
    t.string('code_hash', 64).primary();
    t.string('client_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.string('grant_id', 64).notNullable().index();
    t.string('redirect_uri', 2048).notNullable();
    t.boolean('redirect_uri_sent').notNullable(); // RFC 6749 §4.1.3: then it must be sent again
    t.string('code_challenge', 128).nullable();
    t.text('scope').notNullable();
    t.string('resource', 2048).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable().index();
    t.bigInteger('used_at').nullable();
  });

  await knex.schema.createTable('refresh_tokens', (t) => {
    t.string('id', 64).primary();
    t.string('token_hash', 64).notNullable().unique();
    t.string('grant_id', 64).notNullable().index();
    t.string('client_id', 64).notNullable();
    t.text('scope').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable().index();
    t.bigInteger('used_at').nullable(); // set once, by the one refresh that rotates it
    t.string('successor_id', 64).nullable();
    t.text('successor_access').nullable(); // claims + kid of the access token answered, to answer a retry identically
  });

  await knex.schema.alterTable('grants', (t) => {
    t.bigInteger('expires_at').nullable(); // absolute lifetime of a delegated grant
  });

  // Server-wide secrets shared by every instance (e.g. the key that derives a rotated refresh
  // token's successor, so a retry inside the grace window gets the same answer).
  await knex.schema.createTable('server_secrets', (t) => {
    t.string('name', 64).primary();
    t.string('value', 256).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  // A counter bumped by every change to clients, resources or grants: each instance polls it to
  // drop its read cache, so instances agree within a fraction of a second.
  await knex.schema.createTable('change_epochs', (t) => {
    t.string('name', 32).primary();
    t.bigInteger('epoch').notNullable();
  });
  await knex('change_epochs').insert({ name: 'registry', epoch: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('change_epochs');
  await knex.schema.dropTable('server_secrets');
  await knex.schema.alterTable('grants', (t) => t.dropColumn('expires_at'));
  await knex.schema.dropTable('refresh_tokens');
  await knex.schema.dropTable('authorization_codes');
  await knex.schema.dropTable('sessions');
  await knex.schema.dropTable('users');
}

import type { Knex } from 'knex';

// Times are integer epoch seconds on both dialects. JSON lists are stored as text so the same
// migration serves SQLite and PostgreSQL. Never edit this file once landed: add the next number.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('resources', (t) => {
    t.string('id', 64).primary();
    t.string('identifier', 2048).notNullable().unique();
    t.string('name', 200).notNullable();
    t.text('scopes').notNullable(); // JSON [{name, description}]
    t.integer('access_token_ttl').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('clients', (t) => {
    t.string('client_id', 64).primary();
    t.string('name', 200).notNullable();
    t.string('type', 20).notNullable(); // confidential | public
    t.string('secret_hash', 128).nullable();
    t.text('grant_types').notNullable(); // JSON string[]
    t.text('redirect_uris').notNullable(); // JSON string[]
    t.text('scopes').notNullable(); // JSON string[]
    t.boolean('disabled').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('grants', (t) => {
    t.string('id', 64).primary();
    t.string('client_id', 64).notNullable().index();
    t.string('user_id', 64).nullable().index();
    t.string('resource', 2048).notNullable();
    t.text('scope').notNullable();
    t.string('kind', 40).notNullable(); // client_credentials | authorization_code
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').nullable();
    t.bigInteger('revoked_at').nullable();
  });
  // One standing client_credentials grant per (client, resource): the database picks the single
  // row when two first requests race, so issuance never needs a lock.
  await knex.raw(
    "CREATE UNIQUE INDEX grants_standing ON grants (client_id, resource) WHERE kind = 'client_credentials' AND revoked_at IS NULL",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('grants');
  await knex.schema.dropTable('clients');
  await knex.schema.dropTable('resources');
}

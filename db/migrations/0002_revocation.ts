import type { Knex } from 'knex';

// Revocation keyed by grant: an append-only list with a monotonically increasing sequence, and a
// status list index per grant (draft-ietf-oauth-status-list). Indexes come from their own
// autoincrement table so two grants never share one and none is ever handed out twice.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('status_indexes', (t) => {
    t.increments('idx').primary();
    t.string('grant_id', 64).notNullable();
  });

  await knex.schema.alterTable('grants', (t) => {
    t.integer('status_index').nullable().unique();
  });

  await knex.schema.createTable('revocations', (t) => {
    t.increments('seq').primary();
    t.string('grant_id', 64).notNullable().unique();
    t.bigInteger('revoked_at').notNullable();
    t.string('reason', 500).notNullable();
    t.string('revoked_by', 200).notNullable();
  });
  await knex.schema.alterTable('grants', (t) => {
    t.index(['revoked_at'], 'grants_revoked_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('revocations');
  await knex.schema.alterTable('grants', (t) => {
    t.dropIndex(['revoked_at'], 'grants_revoked_at');
    t.dropUnique(['status_index']);
    t.dropColumn('status_index');
  });
  await knex.schema.dropTable('status_indexes');
}

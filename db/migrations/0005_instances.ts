import type { Knex } from 'knex';

// Each running instance says it is alive every few seconds; rate limits are shared out by the
// number of live instances, so they hold across instances without a database write per request.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('instances', (t) => {
    t.string('id', 64).primary();
    t.bigInteger('seen_at').notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('instances');
}

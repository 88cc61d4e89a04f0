import type { Knex } from 'knex';

// Failed sign-ins per account and per address, counted in the database so that every instance
// enforces the same limit (they were counted in each process's memory). Keys are hashes: no
// username or address is stored in the clear, and no hostile byte reaches the driver.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_failures', (t) => {
    t.string('key', 64).primary();
    t.integer('failures').notNullable();
    t.bigInteger('window_ends').notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_failures');
}

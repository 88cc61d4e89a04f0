import type { Knex } from 'knex';

// Signing keys live in the database so every instance shares them without a shared filesystem.
// Private keys are sealed with AES-256-GCM under a key-encryption secret that never enters the
// database (KEY_ENCRYPTION_SECRET, or keys/key-encryption.secret). A key's state follows from its
// times: published from created_at, signing from activates_at, published until removes_at.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.string('alg', 16).notNullable();
    t.text('public_jwk').notNullable();
    t.text('sealed_private_key').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('activates_at').notNullable().index();
    t.bigInteger('removes_at').nullable();
  });
  await knex('change_epochs').insert({ name: 'keys', epoch: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex('change_epochs').where({ name: 'keys' }).delete();
  await knex.schema.dropTable('signing_keys');
}

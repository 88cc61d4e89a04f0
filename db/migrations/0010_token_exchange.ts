import type { Knex } from 'knex';

// RFC 8693 (token exchange). `grants.parent_grant_id`: a grant made by exchanging an access token
// names the grant of that token; revoking a grant revokes its descendants in the same transaction
// (src/revocation/revoke-grant.ts), so their status bits flip and their revocation entries appear
// together. Indexed: revocation looks children up by it. No foreign key: pruning removes a dead
// parent on its own schedule. `resources.token_exchange_clients`: the clients (a JSON array of
// client ids) that may exchange a token for one of this resource; default nobody.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('grants', (t) => {
    t.string('parent_grant_id', 64).nullable().index('grants_parent_grant_id');
  });
  await knex.schema.alterTable('resources', (t) => {
    t.text('token_exchange_clients').notNullable().defaultTo('[]');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('resources', (t) => {
    t.dropColumn('token_exchange_clients');
  });
  await knex.schema.alterTable('grants', (t) => {
    t.dropIndex('parent_grant_id', 'grants_parent_grant_id');
    t.dropColumn('parent_grant_id');
  });
}

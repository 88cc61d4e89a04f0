import type { Knex } from 'knex';

// RFC 9449 (DPoP). `dpop_proofs`: the proofs seen while they could still be accepted, so a proof's
// `jti` is used once across every instance (a unique insert decides; see src/store/dpop-proofs.ts).
// The key is a hash of the proof key's thumbprint and the jti: fixed width, nothing hostile reaches
// the driver. `refresh_tokens.dpop_jkt`: a public client's refresh token is bound to its DPoP key
// (RFC 9449 §5); successors inherit the binding. `authorization_codes.dpop_jkt`: the key named by
// the authorization request's `dpop_jkt` (§10). `dpop_bound_access_tokens` on clients and
// resources: they accept only DPoP-bound access tokens (§5.2, RFC 9728 §2).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dpop_proofs', (t) => {
    t.string('key', 64).primary();
    t.bigInteger('expires_at').notNullable().index();
  });
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.string('dpop_jkt', 64).nullable();
  });
  await knex.schema.alterTable('authorization_codes', (t) => {
    t.string('dpop_jkt', 64).nullable();
  });
  for (const table of ['clients', 'resources']) {
    await knex.schema.alterTable(table, (t) => {
      t.boolean('dpop_bound_access_tokens').notNullable().defaultTo(false);
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['clients', 'resources']) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('dpop_bound_access_tokens');
    });
  }
  await knex.schema.alterTable('authorization_codes', (t) => {
    t.dropColumn('dpop_jkt');
  });
  await knex.schema.alterTable('refresh_tokens', (t) => {
    t.dropColumn('dpop_jkt');
  });
  await knex.schema.dropTable('dpop_proofs');
}

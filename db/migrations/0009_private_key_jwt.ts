import type { Knex } from 'knex';

// Issue #12 item 2: private_key_jwt client authentication (RFC 7523 §2.2).
// - A client names how it authenticates (`token_endpoint_auth_method`, RFC 7591 §2; null: a
//   secret for confidential clients, none for public ones, as before) and, for private_key_jwt,
//   its public keys: a JWK Set held here (`jwks`, JSON) or the https URL of one (`jwks_uri`).
// - `dpop_proofs` becomes `used_jtis`: every value that may be used once while it could be
//   accepted (a DPoP proof's jti, a client assertion's jti) is recorded there by a hash of what
//   names it; a unique insert decides on every instance (src/store/used-jtis.ts). Rows already
//   there keep their meaning (DPoP proofs hash the same way).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.string('token_endpoint_auth_method', 32).nullable();
    t.text('jwks').nullable();
    t.string('jwks_uri', 2048).nullable();
  });
  await knex.schema.renameTable('dpop_proofs', 'used_jtis');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.renameTable('used_jtis', 'dpop_proofs');
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('jwks_uri');
    t.dropColumn('jwks');
    t.dropColumn('token_endpoint_auth_method');
  });
}

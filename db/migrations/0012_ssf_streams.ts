import type { Knex } from 'knex';

// Issue #13: Grantor as an OpenID Shared Signals (SSF 1.0) transmitter.
// - `ssf_streams`: one row per event stream (SSF 1.0 §8.1.1), owned by the client that made it.
//   `aud` is a JSON array of resource identifiers; `ssf_stream_audiences` repeats it one row per
//   identifier so the revoking transaction finds the streams of a grant's resource by an index.
//   `authorization_header` (push) is sealed with the key-encryption key, never stored plain.
// - `ssf_events`: the outbox. A revocation inserts one row per (matching stream, revoked grant)
//   in its own transaction (src/revocation/revoke-grant.ts), so a committed revocation always has
//   its events and an aborted one never does. `event` holds the facts (JSON); the SET is built
//   and signed at delivery (src/ssf/set.ts). A row lives until the receiver acknowledges it (poll:
//   `ack`, RFC 8936 §2.4; push: 202, RFC 8935 §2.2) or refuses it (push: 400, dropped).
//   `next_attempt_at`, `attempts`, `lease_until` and `lease_owner` schedule push retries and keep
//   two instances from pushing the same event at once.
// No foreign keys to ssf_streams: a stream deleted while a revocation commits must never fail the
// revocation; deleting a stream deletes its rows (src/store/ssf.ts), delivery joins on live streams.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ssf_streams', (t) => {
    t.string('id', 64).primary();
    t.string('client_id', 512).notNullable().index('ssf_streams_client_id');
    t.text('aud').notNullable();
    t.string('delivery_method', 64).notNullable();
    t.string('endpoint_url', 2048).nullable();
    t.text('authorization_header').nullable();
    t.text('events_requested').notNullable();
    t.text('events_delivered').notNullable();
    t.string('description', 1000).nullable();
    t.string('status', 16).notNullable();
    t.string('reason', 1000).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('ssf_stream_audiences', (t) => {
    t.string('stream_id', 64).notNullable();
    t.string('audience', 2048).notNullable();
    t.primary(['stream_id', 'audience']);
    t.index(['audience'], 'ssf_stream_audiences_audience');
  });
  await knex.schema.createTable('ssf_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('stream_id', 64).notNullable();
    t.string('jti', 64).notNullable();
    t.text('event').notNullable();
    t.bigInteger('created_at').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable();
    t.bigInteger('lease_until').nullable();
    t.string('lease_owner', 64).nullable();
    t.unique(['stream_id', 'jti'], { indexName: 'ssf_events_stream_jti' });
    t.index(['stream_id', 'id'], 'ssf_events_stream_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ssf_events');
  await knex.schema.dropTable('ssf_stream_audiences');
  await knex.schema.dropTable('ssf_streams');
}

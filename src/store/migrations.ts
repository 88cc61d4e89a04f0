import type { Knex } from 'knex';
import * as m0001 from '../../db/migrations/0001_foundation.js';
import * as m0002 from '../../db/migrations/0002_revocation.js';
import * as m0003 from '../../db/migrations/0003_delegated_access.js';
import * as m0004 from '../../db/migrations/0004_signing_keys.js';
import * as m0005 from '../../db/migrations/0005_instances.js';
import * as m0006 from '../../db/migrations/0006_login_failures.js';
import * as m0007 from '../../db/migrations/0007_client_metadata_documents.js';
import * as m0008 from '../../db/migrations/0008_dpop.js';
import * as m0009 from '../../db/migrations/0009_private_key_jwt.js';
import * as m0010 from '../../db/migrations/0010_token_exchange.js';
import * as m0011 from '../../db/migrations/0011_dynamic_registration.js';
import * as m0012 from '../../db/migrations/0012_ssf_streams.js';
import * as m0013 from '../../db/migrations/0013_refresh_successor_in_the_spend.js';

// Migrations are imported, not discovered on disk, so the same list runs from the compiled server,
// the CLI and the TypeScript tests.
const MIGRATIONS: Record<string, Knex.Migration> = {
  '0001_foundation': m0001,
  '0002_revocation': m0002,
  '0003_delegated_access': m0003,
  '0004_signing_keys': m0004,
  '0005_instances': m0005,
  '0006_login_failures': m0006,
  '0007_client_metadata_documents': m0007,
  '0008_dpop': m0008,
  '0009_private_key_jwt': m0009,
  '0010_token_exchange': m0010,
  '0011_dynamic_registration': m0011,
  '0012_ssf_streams': m0012,
  '0013_refresh_successor_in_the_spend': m0013,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

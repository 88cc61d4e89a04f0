/**
 * Initial access tokens (RFC 7591 §3) for REGISTRATION=token: admins mint them through the admin
 * API or the CLI; a registration request carries one as a bearer token. The token is shown once
 * and kept only as a hash; it may expire and may be limited to a number of registrations.
 */
import { z } from 'zod';
import type { Db } from '../store/db.js';
import type { Clock } from '../lib/clock.js';
import { OAuthError } from '../errors.js';
import { randomId, randomToken } from '../lib/random.js';
import { hashSecret } from '../lib/secret.js';
import { validate } from '../lib/validate.js';
import * as store from '../store/registration-tokens.js';
import type { Page, RegistrationTokenRow } from '../store/tables.js';
import { ListQuerySchema } from './schemas.js';

export type RegistrationTokenDeps = { db: Db; clock: Clock };

export const CreateRegistrationTokenSchema = z
  .object({
    description: z.string().max(200).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters').default('').describe('What the token is for (shown in the list).'),
    expires_in: z.number().int().min(60).max(10 * 365 * 86400).optional().describe('Seconds until the token stops working. Default: never.'),
    max_uses: z.number().int().min(1).max(1_000_000).optional().describe('How many clients it may register. Default: no limit.'),
  })
  .strict();

export interface RegistrationTokenView {
  id: string;
  description: string;
  created_at: number;
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  revoked_at: number | null;
}

const view = (r: RegistrationTokenRow): RegistrationTokenView => ({
  id: r.id,
  description: r.description,
  created_at: r.createdAt,
  expires_at: r.expiresAt,
  max_uses: r.maxUses,
  uses: r.uses,
  revoked_at: r.revokedAt,
});

/** Mints a token; the answer holds it (`token`) this once. */
export async function createRegistrationToken(deps: RegistrationTokenDeps, input: unknown): Promise<RegistrationTokenView & { token: string }> {
  const body = validate(CreateRegistrationTokenSchema, input ?? {});
  const now = deps.clock.now();
  const token = randomToken(32);
  const row: RegistrationTokenRow = {
    id: randomId(),
    tokenHash: hashSecret(token),
    description: body.description,
    createdAt: now,
    expiresAt: body.expires_in === undefined ? null : now + body.expires_in,
    maxUses: body.max_uses ?? null,
    uses: 0,
    revokedAt: null,
  };
  await store.insertRegistrationToken(deps.db, row);
  return { ...view(row), token };
}

export async function listRegistrationTokens(deps: Pick<RegistrationTokenDeps, 'db'>, query: unknown): Promise<Page<RegistrationTokenView>> {
  const { limit, cursor } = validate(ListQuerySchema, query);
  const page = await store.listRegistrationTokens(deps.db, { limit, cursor });
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** Revokes a token: it registers no more clients (those it registered stay). */
export async function revokeRegistrationToken(deps: RegistrationTokenDeps, id: string): Promise<void> {
  if (id.length > 64 || !(await store.revokeRegistrationToken(deps.db, id, deps.clock.now()))) throw new OAuthError('not_found', 'no such registration token');
}

import { z } from 'zod';

const id = z.string().min(1).max(128);
/** A client_id: up to 512 characters, as a Client ID Metadata Document URL may be (issue #11). */
const clientId = z.string().min(1).max(512);
const reason = z.string().trim().min(1).max(500).describe('Why the grant is revoked (kept in the revocation list).');

export const GrantListQuerySchema = z
  .object({
    client_id: clientId.optional().describe('Only grants of this client.'),
    user_id: id.optional().describe('Only grants of this person.'),
    status: z.enum(['active', 'revoked']).optional().describe('Only live or only revoked grants.'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(512).regex(/^[A-Za-z0-9_-]*$/, 'not a cursor from this API').optional(),
  })
  .strict();

export const RevokeGrantBodySchema = z.object({ reason: reason.optional() }).strict();

export const RevokeManySchema = z.union([
  z.object({ client_id: clientId.describe('Revoke every grant of this client.'), reason: reason.optional() }).strict(),
  z.object({ user_id: id.describe('Revoke every grant of this person.'), reason: reason.optional() }).strict(),
]);

export const RevocationFeedQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0).default(0).describe('Return entries with a sequence number above this.'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

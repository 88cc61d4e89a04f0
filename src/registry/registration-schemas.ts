/**
 * Client metadata a client may register itself with (RFC 7591 §2). Unknown members are dropped
 * (§2: "the authorization server MUST ignore any client metadata sent by the client that it does
 * not understand"); every known one is bounded, so an oversized or array-bombed request is a
 * clear 400 before any work.
 */
import { z } from 'zod';
import { jwksUri, publicJwks } from './schemas.js';

const CONTROL = /\p{Cc}|\p{Cf}/u;
const text = (max: number) => z.string().max(max).refine((v) => !CONTROL.test(v), 'must not contain control characters');
const webUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !/[\s\x00-\x1f\x7f]/.test(v);
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

export const ClientMetadataSchema = z.object({
  // Checked one by one as admin-registered clients' are (registry/schemas.ts redirectUri), so a
  // bad one is answered invalid_redirect_uri (RFC 7591 §3.2.2).
  redirect_uris: z.array(z.unknown()).max(20).optional(),
  token_endpoint_auth_method: z.string().max(64).optional(),
  grant_types: z.array(z.string().max(64)).min(1).max(10).optional(),
  response_types: z.array(z.string().max(64)).min(1).max(10).optional(),
  client_name: text(200).optional(),
  client_uri: webUrl.optional(),
  // Stored and returned, never fetched by Grantor.
  logo_uri: webUrl.optional(),
  scope: z.string().max(4096).optional(),
  contacts: z.array(text(320)).max(10).optional(),
  software_id: text(200).optional(),
  software_version: text(100).optional(),
  jwks: publicJwks.optional(),
  jwks_uri: jwksUri.optional(),
  dpop_bound_access_tokens: z.boolean().optional(),
  // RFC 7592 §2.2: an update names the client it updates.
  client_id: z.string().max(512).optional(),
});

export type ClientMetadata = z.output<typeof ClientMetadataSchema>;

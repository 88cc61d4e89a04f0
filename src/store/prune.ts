import type { Knex } from 'knex';
import { deleteExpiredJtis } from './used-jtis.js';
import { deleteEndedLoginFailures } from './login-failures.js';
import { deleteRemovedKeys } from './signing-keys.js';
import { deleteIdleRegisteredClients } from './clients.js';
import { recordChange } from './read-cache.js';
import { deleteSpentRegistrationTokens } from './registration-tokens.js';

export interface PruneRetention {
  /** The longest an access token can live (its grant's status bit must outlive it). */
  maxTokenLifetime: number;
  /** How long GET /admin/revocations keeps entries for readers of the feed. */
  revocationFeed: number;
  /** How long a rotated refresh token is kept to detect its reuse. */
  spentRefreshTokens: number;
  /** REGISTRATION_IDLE_TTL: a self-registered client that held no grant this long is deleted (absent: never). */
  idleRegisteredClients?: number;
}

/**
 * Deletes what can no longer matter, so the database stops growing once lifetimes have passed:
 * - sessions past their expiry; authorization codes an hour past theirs (single use is long decided);
 *   failed-login counts whose window has ended; used jtis (DPoP proofs, client assertions) that can no
 *   longer be accepted;
 * - refresh tokens past their expiry, spent ones after a week, and every one of a revoked grant;
 * - grants revoked, or ended (lifetime or idle), longer ago than any of their access tokens can
 *   live — their status bits no longer matter — together with their revocation entries, once
 *   those are also older than the feed retention.
 * Signing keys past their removal time leave the table.
 * Self-registered clients (RFC 7591) that have held no grant for REGISTRATION_IDLE_TTL go (the
 * reaper, issue #11), and initial access tokens a week after they were revoked or expired.
 * Shared Signals events (issue #13) no receiver acknowledged within the feed retention (a week), and
 * events of deleted streams, leave the outbox: a receiver away that long resynchronises from the
 * revocation feed.
 * Status list indexes are never handed out again, so clearing a pruned grant's bit un-revokes
 * nothing: no token can carry that index any more.
 */
export async function pruneExpired(db: Knex, now: number, retention: PruneRetention, idleTimeout: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  counts.sessions = await db('sessions').where('expires_at', '<=', now).delete();
  counts.authorizationCodes = await db('authorization_codes').where('expires_at', '<=', now - 3600).delete();
  counts.loginFailures = await deleteEndedLoginFailures(db, now);
  counts.usedJtis = await deleteExpiredJtis(db, now);

  const deadGrants = db('grants')
    .select('id')
    .where((q) =>
      q
        .where('revoked_at', '<=', now - retention.maxTokenLifetime)
        .orWhere('expires_at', '<=', now - retention.maxTokenLifetime)
        .orWhere((idle) =>
          idle.where('kind', 'authorization_code').whereRaw('COALESCE(last_used_at, created_at) <= ?', [now - idleTimeout - retention.maxTokenLifetime]),
        ),
    );
  counts.refreshTokens = await db('refresh_tokens')
    .where('expires_at', '<=', now)
    // A spent token is kept a week to catch its reuse (which revokes the grant); later it is simply unknown.
    .orWhere('used_at', '<=', now - retention.spentRefreshTokens)
    .orWhereIn('grant_id', db('grants').select('id').whereNotNull('revoked_at'))
    .delete();
  const feedCutoff = now - Math.max(retention.revocationFeed, retention.maxTokenLifetime);
  counts.revocations = await db('revocations').where('revoked_at', '<=', feedCutoff).whereIn('grant_id', deadGrants.clone()).delete();
  // A grant goes once its revocation entry is gone (or it never had one: it ended by time).
  counts.grants = await db('grants')
    .whereIn('id', deadGrants.clone())
    .whereNotIn('id', db('revocations').select('grant_id'))
    .delete();
  counts.ssfEvents = await db('ssf_events')
    .where('created_at', '<=', feedCutoff)
    .orWhereNotIn('stream_id', db('ssf_streams').select('id'))
    .delete();
  // Signing keys past their removal time are already out of the JWKS; their rows go too.
  counts.signingKeys = await deleteRemovedKeys(db, now);
  if (retention.idleRegisteredClients !== undefined) {
    counts.registeredClients = await deleteIdleRegisteredClients(db, now, retention.idleRegisteredClients);
    // Every instance drops its cached copy of a reaped client at its next epoch poll.
    if (counts.registeredClients > 0) await recordChange(db);
  }
  counts.registrationTokens = await deleteSpentRegistrationTokens(db, now);
  await db('status_indexes').whereNotIn('grant_id', db('grants').select('id')).where('idx', '<', db('grants').min('status_index')).delete();
  return counts;
}

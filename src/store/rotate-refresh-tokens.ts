import type { Knex } from 'knex';
import { createBatcher } from '../lib/batcher.js';
import { autocommitStatements, dialectOf, rawTransaction, type RawStatements } from './raw-sql.js';
import type { RefreshTokenRow } from './refresh-tokens.js';

/** One refresh token rotation: spend `tokenId`, store its successor, maybe narrow or touch the grant. */
export interface Rotation {
  tokenId: string;
  rotatedAt: number;
  /** JSON of the access token answered (claims and kid), to answer a repeat identically. */
  successorAccess: string;
  successor: Omit<RefreshTokenRow, 'usedAt' | 'successorId' | 'successorAccess'>;
  /** Narrow the grant's scope from → to (issue #10: scopes taken away), when they differ. */
  narrowGrant?: { from: string; to: string };
  /** Mark the grant used at this time (idle timeout). */
  touchGrantAt?: number;
}

/** Rotations per transaction at most: bounds the statement's size (SQLite allows 32766 variables). */
const MAX_BATCH = 100;

/**
 * Rotates several refresh tokens in ONE transaction (group commit) with a fixed number of statements
 * whatever their count: one conditional UPDATE decides every winner (`used_at IS NULL`, the grant
 * not revoked), one INSERT stores the winners' successors, then the rare grant writes. Answers, per
 * rotation and in order, whether it won. Of two rotations of the same token only one can win: the
 * UPDATE spends the row once, whichever transaction (of this process or another) comes first; within
 * one batch the first of them is the one named, the others lose.
 */
export async function rotateRefreshTokens(db: Knex, rotations: readonly Rotation[]): Promise<boolean[]> {
  const named = new Map<string, Rotation>();
  for (const r of rotations) if (!named.has(r.tokenId)) named.set(r.tokenId, r);
  const candidates = [...named.values()];
  const onPg = dialectOf(db) === 'pg';
  const rotate = async (sql: RawStatements) => {
    const won = new Set(onPg ? await spendAndStoreInOne(sql, candidates) : await spendThenStore(sql, candidates));
    const winners = candidates.filter((r) => won.has(r.successor.id));
    // Issue #10: the grant narrowed only from the scope it had when read (a concurrent change wins).
    for (const r of winners) if (r.narrowGrant) await sql.all('UPDATE grants SET scope = ? WHERE id = ? AND scope = ?', [r.narrowGrant.to, r.successor.grantId, r.narrowGrant.from]);
    const touches = new Map<number, string[]>();
    for (const r of winners) if (r.touchGrantAt !== undefined) touches.set(r.touchGrantAt, [...(touches.get(r.touchGrantAt) ?? []), r.successor.grantId]);
    for (const [at, grantIds] of touches) await sql.all(`UPDATE grants SET last_used_at = ? WHERE id IN (${grantIds.map(() => '?').join(', ')})`, [at, ...grantIds]);
    return rotations.map((r) => named.get(r.tokenId) === r && won.has(r.successor.id));
  };
  // On PostgreSQL a batch with no grant to narrow or touch is one statement, hence its own
  // transaction: one round trip instead of four (BEGIN, UPDATE, INSERT, COMMIT).
  const alone = onPg && candidates.every((r) => !r.narrowGrant && r.touchGrantAt === undefined);
  return alone ? rotate(autocommitStatements(db)) : rawTransaction(db, rotate);
}

/** SQLite (no writes inside WITH): the conditional UPDATE, then the winners' successors. */
async function spendThenStore(sql: RawStatements, candidates: readonly Rotation[]): Promise<string[]> {
  const update = spendStatement(candidates);
  const winnerIds = (await sql.all(update.sql, update.params)).map((r) => r.successor_id as string);
  const won = new Set(winnerIds);
  const winners = candidates.filter((r) => won.has(r.successor.id));
  if (winners.length > 0) {
    await sql.all(
      `INSERT INTO refresh_tokens (${SUCCESSOR_COLUMNS}) VALUES ${winners.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      winners.flatMap(successorValues),
    );
  }
  return winnerIds;
}

/**
 * PostgreSQL: the same UPDATE and INSERT in one statement. The INSERT stores exactly the successors
 * the UPDATE's RETURNING names (a data-modifying WITH runs once, and its RETURNING feeds the rest).
 */
async function spendAndStoreInOne(sql: RawStatements, candidates: readonly Rotation[]): Promise<string[]> {
  const update = spendStatement(candidates);
  const row = '(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT))';
  const rows = await sql.all(
    `WITH spent AS (${update.sql}), stored AS (INSERT INTO refresh_tokens (${SUCCESSOR_COLUMNS}) ` +
      `SELECT * FROM (VALUES ${candidates.map(() => row).join(', ')}) AS successor(${SUCCESSOR_COLUMNS}) ` +
      'WHERE successor.id IN (SELECT successor_id FROM spent)) SELECT successor_id FROM spent',
    [...update.params, ...candidates.flatMap(successorValues)],
  );
  return rows.map((r) => r.successor_id as string);
}

const SUCCESSOR_COLUMNS = 'id, token_hash, grant_id, client_id, scope, created_at, expires_at, dpop_jkt';
const successorValues = ({ successor: s }: Rotation) => [s.id, s.tokenHash, s.grantId, s.clientId, s.scope, s.createdAt, s.expiresAt, s.dpopJkt];

/**
 * The conditional UPDATE of every candidate at once (CASE per column, portable to SQLite ≥ 3.35 and
 * PostgreSQL); RETURNING names the successors of the rows it spent, i.e. the winners. A token whose
 * grant was revoked meanwhile is not spent (RFC 9700 §4.14.2: revoking a grant ends its refresh tokens).
 */
function spendStatement(rotations: readonly Rotation[]): { sql: string; params: unknown[] } {
  const cases = (cast: string) => `CASE id ${rotations.map(() => `WHEN ? THEN CAST(? AS ${cast})`).join(' ')} END`;
  return {
    sql:
      `UPDATE refresh_tokens SET used_at = ${cases('BIGINT')}, successor_id = ${cases('TEXT')}, successor_access = ${cases('TEXT')} ` +
      `WHERE id IN (${rotations.map(() => '?').join(', ')}) AND used_at IS NULL ` +
      // The grant's check as a subquery per spent row, not a join PostgreSQL may reorder: the rows
      // are found by their primary key whatever the statistics say (on a table never analyzed yet,
      // its planner would walk every token of the grant through the grant_id index instead).
      // A grant gone (NULL) spends nothing, as a revoked one.
      'AND (SELECT grants.revoked_at IS NULL FROM grants WHERE grants.id = refresh_tokens.grant_id) ' +
      'RETURNING successor_id',
    params: [
      ...rotations.flatMap((r) => [r.tokenId, r.rotatedAt]),
      ...rotations.flatMap((r) => [r.tokenId, r.successor.id]),
      ...rotations.flatMap((r) => [r.tokenId, r.successorAccess]),
      ...rotations.map((r) => r.tokenId),
    ],
  };
}

/**
 * Group commit (lib/batcher.ts): rotations asked for while transactions are in flight wait for one
 * to end, then go together in the next (at most MAX_BATCH), so a busy server commits many rotations
 * per transaction and an idle one commits each at once. Each answer comes only after its COMMIT
 * (nothing acknowledged is lost on a crash). When a batch fails (a deadlock between two batches, a
 * busy database), each of its rotations is retried in a transaction of its own, so one rotation's
 * failure fails only that one.
 *
 * How many transactions may be in flight at once: one on SQLite, whose single writer runs them one
 * after the other anyway; several on PostgreSQL, where a batch waits mostly for its COMMIT's WAL
 * flush and the server flushes concurrent commits together. Two batches holding the same token are
 * decided by its row lock: the second UPDATE finds it spent, as between two instances.
 */
export interface RotationBatcher {
  /** Resolves, after its transaction committed, to whether this rotation won. */
  rotate(rotation: Rotation): Promise<boolean>;
}

/** Transactions in flight at most on PostgreSQL (see RotationBatcher); under the pool's 10 connections. */
const PG_IN_FLIGHT = 4;

export function createRotationBatcher(db: Knex): RotationBatcher {
  const batcher = createBatcher<Rotation, boolean>({
    inFlightAtMost: dialectOf(db) === 'pg' ? PG_IN_FLIGHT : 1,
    maxBatch: MAX_BATCH,
    run: (rotations) => rotateRefreshTokens(db, rotations),
  });
  return { rotate: (rotation) => batcher.run(rotation) };
}

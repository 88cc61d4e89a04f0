import type { Knex } from 'knex';
import { createBatcher } from '../lib/batcher.js';
import { autocommitStatements, dialectOf, rawTransaction, type RawStatements } from './raw-sql.js';
import { narrowGrantScope, touchGrants } from './grants.js';

/** One refresh token rotation: spend `tokenId`, store its successor, maybe narrow or touch the grant. */
export interface Rotation {
  tokenId: string;
  /** The spent token's grant (the grant writes below). */
  grantId: string;
  rotatedAt: number;
  /** JSON of the access token answered (claims and kid), to answer a repeat identically. */
  successorAccess: string;
  /**
   * What the successor holds of its own; its grant, client and expiry are the spent token's, and it
   * is created when that one is spent (`rotatedAt`).
   */
  successor: { id: string; tokenHash: string; scope: string; dpopJkt: string | null };
  /** Narrow the grant's scope from → to (issue #10: scopes taken away), when they differ. */
  narrowGrant?: { from: string; to: string };
  /** Mark the grant used at this time (idle timeout). */
  touchGrantAt?: number;
}

/** Rotations per transaction at most: bounds the statement's size (SQLite allows 32766 variables). */
const MAX_BATCH = 100;

/**
 * Rotates several refresh tokens at once (group commit) with a fixed number of statements whatever
 * their count: one conditional UPDATE decides every winner (`used_at IS NULL`, the grant not
 * revoked) and stores the winners' successors in the same statement (SQLite: a trigger on the spent
 * row, db/migrations/0013; PostgreSQL: a data-modifying WITH), then the rare grant writes, in one
 * transaction with them (without, the statement is its own). Answers, per rotation and in order,
 * whether it won. Of two rotations of the same
 * token only one can win: the UPDATE spends the row once, whichever transaction (of this process or
 * another) comes first; within one batch the first of them is the one named, the others lose.
 */
export async function rotateRefreshTokens(db: Knex, rotations: readonly Rotation[]): Promise<boolean[]> {
  const named = new Map<string, Rotation>();
  for (const r of rotations) if (!named.has(r.tokenId)) named.set(r.tokenId, r);
  const candidates = [...named.values()];
  const onPg = dialectOf(db) === 'pg';
  const rotate = async (sql: RawStatements) => {
    const won = new Set(await spendAndStore(sql, candidates, onPg));
    const winners = candidates.filter((r) => won.has(r.successor.id));
    // Issue #10: the grant narrowed only from the scope it had when read (a concurrent change wins).
    for (const r of winners) if (r.narrowGrant) await narrowGrantScope(sql, r.grantId, r.narrowGrant.from, r.narrowGrant.to);
    const touches = new Map<number, string[]>();
    for (const r of winners) if (r.touchGrantAt !== undefined) touches.set(r.touchGrantAt, [...(touches.get(r.touchGrantAt) ?? []), r.grantId]);
    for (const [at, grantIds] of touches) await touchGrants(sql, grantIds, at);
    return rotations.map((r) => named.get(r.tokenId) === r && won.has(r.successor.id));
  };
  // A batch with no grant to narrow or touch is one statement, hence its own transaction: one trip
  // to the database (or, on SQLite, to the thread pool) instead of four (BEGIN, UPDATE, INSERT, COMMIT).
  const alone = candidates.every((r) => !r.narrowGrant && r.touchGrantAt === undefined);
  return alone ? rotate(autocommitStatements(db)) : rawTransaction(db, rotate);
}

/**
 * The conditional UPDATE, which also stores the winners' successors; answers the winners' successor
 * ids. The UPDATE writes into each row it spends its successor's id, hash, scope and DPoP key; the
 * successor row is made from the spent row in the same statement: on SQLite by the trigger of
 * db/migrations/0013 (SQLite has no writes inside WITH), on PostgreSQL by an INSERT fed by the
 * UPDATE's RETURNING (a data-modifying WITH runs once). A rotation is therefore never spent without
 * its successor, nor a successor stored without its spend, whether or not a transaction holds them.
 */
async function spendAndStore(sql: RawStatements, candidates: readonly Rotation[], onPg: boolean): Promise<string[]> {
  const update = spendStatement(candidates, onPg ? SPENT_ROW : 'successor_id');
  const rows = onPg
    ? await sql.all(
        `WITH spent AS (${update.sql}), stored AS (INSERT INTO refresh_tokens (${SUCCESSOR_COLUMNS}) SELECT ${SPENT_ROW} FROM spent) ` +
          'SELECT successor_id FROM spent',
        update.params,
      )
    : await sql.all(update.sql, update.params);
  return rows.map((r) => r.successor_id as string);
}

/** A successor's columns, and where the spent row holds each (the trigger of db/migrations/0013 says the same). */
const SUCCESSOR_COLUMNS = 'id, token_hash, grant_id, client_id, scope, created_at, expires_at, dpop_jkt';
const SPENT_ROW = 'successor_id, successor_hash, grant_id, client_id, successor_scope, used_at, expires_at, successor_dpop_jkt';

/**
 * The conditional UPDATE of every candidate at once (CASE per column, portable to SQLite ≥ 3.35 and
 * PostgreSQL); RETURNING names the successors of the rows it spent, i.e. the winners (on PostgreSQL
 * with what their successors take from them). A token whose grant was revoked meanwhile is not spent
 * (RFC 9700 §4.14.2: revoking a grant ends its refresh tokens).
 */
function spendStatement(rotations: readonly Rotation[], returning: string): { sql: string; params: unknown[] } {
  const set = (column: string, cast: string, value: (r: Rotation) => unknown) => ({
    sql: `${column} = CASE id ${rotations.map(() => `WHEN ? THEN CAST(? AS ${cast})`).join(' ')} END`,
    params: rotations.flatMap((r) => [r.tokenId, value(r)]),
  });
  const sets = [
    set('used_at', 'BIGINT', (r) => r.rotatedAt),
    set('successor_id', 'TEXT', (r) => r.successor.id),
    set('successor_access', 'TEXT', (r) => r.successorAccess),
    set('successor_hash', 'TEXT', (r) => r.successor.tokenHash),
    set('successor_scope', 'TEXT', (r) => r.successor.scope),
    set('successor_dpop_jkt', 'TEXT', (r) => r.successor.dpopJkt),
  ];
  return {
    sql:
      `UPDATE refresh_tokens SET ${sets.map((x) => x.sql).join(', ')} ` +
      `WHERE id IN (${rotations.map(() => '?').join(', ')}) AND used_at IS NULL ` +
      // The grant's check as a subquery per spent row, not a join PostgreSQL may reorder: the rows
      // are found by their primary key whatever the statistics say (on a table never analyzed yet,
      // its planner would walk every token of the grant through the grant_id index instead).
      // A grant gone (NULL) spends nothing, as a revoked one.
      'AND (SELECT grants.revoked_at IS NULL FROM grants WHERE grants.id = refresh_tokens.grant_id) ' +
      `RETURNING ${returning}`,
    params: [...sets.flatMap((x) => x.params), ...rotations.map((r) => r.tokenId)],
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

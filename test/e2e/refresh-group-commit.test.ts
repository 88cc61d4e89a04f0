/**
 * Refresh token rotations committed in groups (issue #14, src/store/rotate-refresh-tokens.ts):
 * several rotations share one transaction, and each still decides its own winner — one losing the
 * race, one whose grant was revoked meanwhile, or one failing must not change another's outcome.
 */
import { createUser } from '../../src/registry/users.js';
import { fixedClock } from '../../src/lib/clock.js';
import { revokeGrant } from '../../src/revocation/revoke-grant.js';
import { createRotationBatcher, rotateRefreshTokens, type Rotation } from '../../src/store/rotate-refresh-tokens.js';
import { hashRefreshToken } from '../../src/tokens/refresh-token.js';
import { Person } from '../helpers/browserless.js';
import { countRows, delegatedFixture, delegatedTokens, grantRow, PASSWORD, refresh, refreshEachThriceAtOnce, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { onPostgres } from '../helpers/test-database.js';

describe('refresh rotations committed in groups', () => {
  const clock = fixedClock(Math.floor(Date.now() / 1000));
  let app: TestApp;
  let fx: Delegated;
  let people = 0;
  beforeAll(async () => {
    app = await startTestApp({ clock });
    fx = await delegatedFixture(app);
  });
  afterAll(() => app.close());

  /** A fresh grant of its own (a new person), and its stored refresh token row. */
  async function freshToken() {
    const username = `person${++people}`;
    await createUser(app.deps, { username, password: PASSWORD });
    const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { username });
    const row = await app.deps.db('refresh_tokens').where({ token_hash: hashRefreshToken(t.refresh_token) }).first();
    return { ...t, row };
  }

  let successors = 0;
  /** The rotation the refresh grant would ask for (the successor's hash unique unless given). */
  function rotationOf(row: Record<string, any>, successorHash = `successor-hash-${++successors}`): Rotation {
    return {
      tokenId: row.id,
      grantId: row.grant_id,
      rotatedAt: clock.now(),
      successorAccess: '{"claims":{},"kid":"k","expiresIn":1}',
      successor: { id: `successor-${successors}-${row.id}`.slice(0, 64), tokenHash: successorHash, scope: row.scope, dpopJkt: null },
    };
  }

  const spent = async (id: string) => (await app.deps.db('refresh_tokens').where({ id }).first()).used_at !== null;

  it('rotates the winner and not the loser when one rotation of a batch finds its token already spent', async () => {
    const a = await freshToken();
    const b = await freshToken();
    expect(await rotateRefreshTokens(app.deps.db, [rotationOf(a.row)])).toEqual([true]);
    expect(await rotateRefreshTokens(app.deps.db, [rotationOf(a.row), rotationOf(b.row)])).toEqual([false, true]);
    expect(await countRows(app, 'refresh_tokens', { grant_id: a.grant_id })).toBe(2);
    expect(await countRows(app, 'refresh_tokens', { grant_id: b.grant_id })).toBe(2);
  });

  it('stores the successor in the spend: its grant, client and expiry the spent token’s, created when it was spent', async () => {
    const a = await freshToken();
    const rotation = { ...rotationOf(a.row), rotatedAt: clock.now() + 7 };
    rotation.successor = { ...rotation.successor, scope: 'narrower', dpopJkt: 'j'.repeat(43) };
    expect(await rotateRefreshTokens(app.deps.db, [rotation])).toEqual([true]);
    const stored = await app.deps.db('refresh_tokens').where({ id: rotation.successor.id }).first();
    expect({ ...stored, created_at: Number(stored.created_at), expires_at: Number(stored.expires_at) }).toMatchObject({
      token_hash: rotation.successor.tokenHash,
      grant_id: a.row.grant_id,
      client_id: a.row.client_id,
      scope: 'narrower',
      created_at: clock.now() + 7,
      expires_at: Number(a.row.expires_at),
      dpop_jkt: 'j'.repeat(43),
      used_at: null,
      successor_id: null,
    });
    const spentRow = await app.deps.db('refresh_tokens').where({ id: a.row.id }).first();
    expect([Number(spentRow.used_at), spentRow.successor_id]).toEqual([clock.now() + 7, rotation.successor.id]);
  });

  it('lets exactly one of concurrent duplicates in the same batch win: one successor row', async () => {
    const a = await freshToken();
    const first = rotationOf(a.row);
    const duplicate = rotationOf(a.row);
    expect(await rotateRefreshTokens(app.deps.db, [first, duplicate])).toEqual([true, false]);
    expect(await countRows(app, 'refresh_tokens', { grant_id: a.grant_id })).toBe(2);
    expect((await app.deps.db('refresh_tokens').where({ id: a.row.id }).first()).successor_id).toBe(first.successor.id);
  });

  it('spends nothing of a grant revoked meanwhile, and still rotates the others of the batch (RFC 9700 §4.14.2)', async () => {
    const revoked = await freshToken();
    const live = await freshToken();
    await revokeGrant(app.deps, revoked.grant_id, { reason: 'test', by: 'system' });
    expect(await rotateRefreshTokens(app.deps.db, [rotationOf(revoked.row), rotationOf(live.row)])).toEqual([false, true]);
    expect(await spent(revoked.row.id)).toBe(false);
    expect(await countRows(app, 'refresh_tokens', { grant_id: revoked.grant_id })).toBe(1);
    expect(await spent(live.row.id)).toBe(true);
  });

  it('spends nothing of a token whose grant row is gone, as of a revoked one', async () => {
    const orphan = await freshToken();
    const live = await freshToken();
    await app.deps.db('grants').where({ id: orphan.grant_id }).delete();
    expect(await rotateRefreshTokens(app.deps.db, [rotationOf(orphan.row), rotationOf(live.row)])).toEqual([false, true]);
    expect(await spent(orphan.row.id)).toBe(false);
    expect(await spent(live.row.id)).toBe(true);
  });

  it('fails only the failing rotation of a failed batch: the others are retried alone and commit', async () => {
    const a = await freshToken();
    const b = await freshToken();
    const c = await freshToken();
    const batcher = createRotationBatcher(app.deps.db);
    // b's successor collides with a stored token's hash: its INSERT fails, and with it the batch.
    const outcomes = await Promise.allSettled([batcher.rotate(rotationOf(a.row)), batcher.rotate(rotationOf(b.row, c.row.token_hash)), batcher.rotate(rotationOf(c.row))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'failed'))).toEqual([true, 'failed', true]);
    expect([await spent(a.row.id), await spent(b.row.id), await spent(c.row.id)]).toEqual([true, false, true]);
  });

  it('answers a refresh whose grant is revoked while its rotation waits with invalid_grant, never a 500', async () => {
    const t = await freshToken();
    // The revocation lands between the refresh's read and its rotation's transaction.
    const rotate = app.deps.rotations.rotate;
    app.deps.rotations.rotate = async (rotation) => {
      await revokeGrant(app.deps, t.grant_id, { reason: 'test', by: 'system' });
      return rotate(rotation);
    };
    try {
      const res = await refresh(app, fx.spa.client_id, t.refresh_token);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_grant');
    } finally {
      app.deps.rotations.rotate = rotate;
    }
    expect(await spent(t.row.id)).toBe(false);
    expect((await grantRow(app, t.grant_id)).revoked_at).not.toBeNull();
  });

  it('answers a refresh that read its token unspent and lost the rotation to an instance whose clock is behind with the winner’s tokens, never revoking the grant', async () => {
    const t = await freshToken();
    // The winner: the same refresh on another instance whose clock runs 5 s behind this one's,
    // rotating between this refresh's read and its own rotation.
    const rotate = app.deps.rotations.rotate;
    app.deps.rotations.rotate = async (rotation) => {
      app.deps.rotations.rotate = rotate;
      expect(await rotate({ ...rotation, rotatedAt: rotation.rotatedAt - 5 })).toBe(true);
      return rotate(rotation);
    };
    let res;
    try {
      res = await refresh(app, fx.spa.client_id, t.refresh_token);
    } finally {
      app.deps.rotations.rotate = rotate;
    }
    expect(res.status).toBe(200);
    const body = await res.json();
    expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
    // Its refresh token is the winner's successor, and it rotates.
    expect((await refresh(app, fx.spa.client_id, body.refresh_token)).status).toBe(200);
  });

  it('answers concurrent refreshes of many grants, each rotated once, duplicates alike', async () => {
    const tokens = await Promise.all(Array.from({ length: 4 }, () => freshToken()));
    clock.advance(5);
    await refreshEachThriceAtOnce(app, fx.spa.client_id, tokens);
  });

  it('answers reads asked for at once each with its own token (one statement for all on PostgreSQL)', async () => {
    const [a, b, c] = await Promise.all([freshToken(), freshToken(), freshToken()]);
    const hashes = [a, b, 'unknown', c, a].map((t) => (typeof t === 'string' ? hashRefreshToken('never issued') : hashRefreshToken(t.refresh_token)));
    const found = await Promise.all(hashes.map((hash) => app.deps.reads.refreshTokenWithGrant(hash)));
    expect(found.map((f) => f?.token.id)).toEqual([a.row.id, b.row.id, undefined, c.row.id, a.row.id]);
    expect(found.map((f) => f?.grant.id)).toEqual([a.grant_id, b.grant_id, undefined, c.grant_id, a.grant_id]);
  });

  // Statements prepared on a new database must not keep a plan made while its tables were small
  // (store/db.ts): the pool's connections plan each run anew.
  (onPostgres ? it : it.skip)('plans the prepared statements at each run on PostgreSQL', async () => {
    const connections = await Promise.all([0, 1, 2].map(() => app.deps.db.raw('SHOW plan_cache_mode')));
    expect(connections.map((r) => r.rows[0].plan_cache_mode)).toEqual(['force_custom_plan', 'force_custom_plan', 'force_custom_plan']);
  });
});

/**
 * The refresh grant on a SQLite file (issue #14 item 2): its read runs on read-only connections
 * beside the one writer (src/store/hot-reads.ts) and its rotations on the writer's own connection
 * through the driver (src/store/raw-sql.ts); the authorization_code grant's read and redemption
 * likewise. The in-memory database of the other tests has
 * neither (one connection is the whole database), so this file pins them on a file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createUser } from '../../src/registry/users.js';
import { fixedClock } from '../../src/lib/clock.js';
import { revokeGrant } from '../../src/revocation/revoke-grant.js';
import { Person } from '../helpers/browserless.js';
import { delegatedFixture, delegatedTokens, obtainCode, PASSWORD, redeem, refresh, refreshEachThriceAtOnce, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { hashRefreshToken } from '../../src/tokens/refresh-token.js';
import { WAL_CHECKPOINT_MS } from '../../src/store/db.js';

const onSqlite = !process.env.TEST_DATABASE_URL;

(onSqlite ? describe : describe.skip)('the refresh grant on a SQLite file', () => {
  const clock = fixedClock(Math.floor(Date.now() / 1000));
  let dir: string;
  let app: TestApp;
  let fx: Delegated;
  let people = 0;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-refresh-file-'));
    app = await startTestApp({ clock, env: { DATABASE_URL: `sqlite:${path.join(dir, 'grantor.sqlite')}` } });
    fx = await delegatedFixture(app);
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function freshTokens() {
    const username = `person${++people}`;
    await createUser(app.deps, { username, password: PASSWORD });
    return delegatedTokens(app, new Person(app.url), fx.spa.client_id, { username });
  }

  it('answers concurrent refreshes of many grants, each rotated once, duplicates alike', async () => {
    const tokens = await Promise.all(Array.from({ length: 6 }, () => freshTokens()));
    clock.advance(5);
    const bodies = await refreshEachThriceAtOnce(app, fx.spa.client_id, tokens);
    // A successor read back at once from the readers: committed before it was answered.
    const next = await refresh(app, fx.spa.client_id, bodies[0].refresh_token);
    expect(next.status).toBe(200);
  });

  it('answers reads asked for at once on the readers each with its own token, unknown and repeated hashes included', async () => {
    const [a, b, c] = await Promise.all([freshTokens(), freshTokens(), freshTokens()]);
    const byHash = async (t: { refresh_token: string }) => app.deps.db('refresh_tokens').where({ token_hash: hashRefreshToken(t.refresh_token) }).first();
    const rows = await Promise.all([a, b, c].map(byHash));
    // More than one batch's worth, so the readers answer several grouped statements at once.
    const asked = Array.from({ length: 150 }, (_, i) => [a, b, 'unknown', c][i % 4]);
    const found = await Promise.all(asked.map((t) => app.deps.reads.refreshTokenWithGrant(hashRefreshToken(typeof t === 'string' ? 'never issued' : t.refresh_token))));
    const expected = asked.map((t) => (typeof t === 'string' ? undefined : rows[[a, b, c].indexOf(t)].id));
    expect(found.map((f) => f?.token.id)).toEqual(expected);
    expect(found.map((f) => f?.grant.id)).toEqual(asked.map((t) => (typeof t === 'string' ? undefined : rows[[a, b, c].indexOf(t)].grant_id)));
  });

  it('redeems a code read beside the writer once: of three redemptions at once one wins, and the grant is revoked', async () => {
    const username = `person${++people}`;
    await createUser(app.deps, { username, password: PASSWORD });
    const { code, verifier } = await obtainCode(new Person(app.url), fx.spa.client_id, { username });
    const answers = await Promise.all([1, 2, 3].map(() => redeem(app, fx.spa.client_id, code, verifier)));
    const won = answers.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    const body = await won[0].json();
    for (const lost of answers.filter((r) => r.status !== 200)) {
      expect(lost.status).toBe(400);
      expect((await lost.json()).error).toBe('invalid_grant');
    }
    // RFC 6749 §4.1.2: a code used twice revokes what it granted, the winner's tokens included.
    const res = await refresh(app, fx.spa.client_id, body.refresh_token);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
  });

  it('sees a revocation committed by the writer at once: the next refresh is refused', async () => {
    const t = await freshTokens();
    await revokeGrant(app.deps, t.grant_id, { reason: 'test', by: 'system' });
    const res = await refresh(app, fx.spa.client_id, t.refresh_token);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
  });

  it('leaves no read snapshot open after a refresh: a checkpoint can empty the WAL', async () => {
    const t = await freshTokens();
    expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(200);
    // A reader that stopped on a row (sqlite3's get()) would keep its snapshot, and every later
    // write would pile up in the WAL until its next read.
    const [result] = await app.deps.db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    expect(result.busy).toBe(0);
  });

  it('checkpoints the WAL off the commit path: the writer never does, a checkpointer keeps the WAL from growing', async () => {
    const [setting] = await app.deps.db.raw('PRAGMA wal_autocheckpoint');
    expect(Object.values(setting)[0]).toBe(0);
    const wal = path.join(dir, 'grantor.sqlite-wal');
    // Rounds of writes well past SQLite's own 1,000-page threshold, each followed by a pause
    // longer than the checkpoint period: checkpointed, the WAL is reused from its start and its
    // file stays the size of one round; nobody checkpointing, it would grow by a round each time.
    const round = () => app.deps.db.transaction(async (trx) => {
      for (let i = 0; i < 3; i++) await trx('server_secrets').insert({ name: `wal-test-${Math.random()}`, value: 'x'.repeat(1_000_000), created_at: 0 });
    });
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      await round();
      sizes.push(fs.statSync(wal).size);
      await new Promise((r) => setTimeout(r, WAL_CHECKPOINT_MS * 2.5));
    }
    expect(sizes[2]).toBeLessThan(sizes[0] * 1.5);
  });
});

(onSqlite ? describe : describe.skip)('a SQLite file closed after refreshes', () => {
  // The writer keeps the group commit's statements prepared (src/store/raw-sql.ts), and SQLite
  // refuses to close a connection with statements still prepared: the close finalizes them first.
  // Closed cleanly, the last connection checkpoints the WAL and deletes it.
  it('closes every connection: the WAL is checkpointed and removed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-refresh-close-'));
    try {
      const clock = fixedClock(Math.floor(Date.now() / 1000));
      const app = await startTestApp({ clock, env: { DATABASE_URL: `sqlite:${path.join(dir, 'grantor.sqlite')}` } });
      const fx = await delegatedFixture(app);
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      clock.advance(5);
      const first = await refresh(app, fx.spa.client_id, t.refresh_token);
      expect(first.status).toBe(200);
      expect((await refresh(app, fx.spa.client_id, (await first.json()).refresh_token)).status).toBe(200);
      expect(fs.existsSync(path.join(dir, 'grantor.sqlite-wal'))).toBe(true);
      await app.close();
      expect(fs.existsSync(path.join(dir, 'grantor.sqlite-wal'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Refresh tokens (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): reuse revokes the grant, a repeat
 * inside REFRESH_GRACE gets the same answer, concurrent refreshes agree on one successor, scope may
 * only narrow, and grants end at their absolute lifetime and idle timeout.
 */
import { createUser } from '../../src/registry/users.js';
import { fixedClock } from '../../src/lib/clock.js';
import { Person } from '../helpers/browserless.js';
import { countRows, delegatedFixture, delegatedTokens, grantRow, introspect, PASSWORD, refresh, REDIRECT, statusBit, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type JsonResponse, type TestApp } from '../helpers/test-app.js';

const expectInvalidGrant = async (res: JsonResponse) => {
  expect(res.status).toBe(400);
  expect((await res.json()).error).toBe('invalid_grant');
};

describe('refresh tokens', () => {
  describe('rotation (REFRESH_GRACE=0)', () => {
    const clock = fixedClock(Math.floor(Date.now() / 1000));
    let app: TestApp;
    let fx: Delegated;
    beforeAll(async () => {
      app = await startTestApp({ clock });
      fx = await delegatedFixture(app);
    });
    afterAll(() => app.close());

    it('rotates: each refresh spends the token and returns a successor; the spent row names it', async () => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      clock.advance(5);
      const res = await refresh(app, fx.spa.client_id, t.refresh_token);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const next = await res.json();
      expect(next).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'photos:read', refresh_token: expect.any(String) });
      expect(next.refresh_token).not.toBe(t.refresh_token);
      const rows = await app.deps.db('refresh_tokens').where({ grant_id: t.grant_id }).orderBy('created_at');
      expect(rows).toHaveLength(2);
      const [spent, successor] = rows;
      expect(spent.successor_id).toBe(successor.id);
      expect(Number(spent.used_at)).toBe(clock.now());
      expect(successor.used_at).toBeNull();
      expect(await introspect(app, fx.rs, t.refresh_token)).toEqual({ active: false });
      expect(await introspect(app, fx.rs, next.refresh_token)).toMatchObject({ active: true, grant_id: t.grant_id });
      expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
    });

    it('revokes the whole grant when a rotated refresh token is reused after the grace window (RFC 9700 §4.14.2)', async () => {
      const person = new Person(app.url);
      const bob = await createUser(app.deps, { username: 'bob', password: PASSWORD });
      const t = await delegatedTokens(app, person, fx.spa.client_id, { username: 'bob' });
      const next = await (await refresh(app, fx.spa.client_id, t.refresh_token)).json();
      expect(await statusBit(app, t.status_index)).toBe(0);

      // REFRESH_GRACE=0: a refresh begun within a second of the rotation is a concurrent duplicate of
      // it; two seconds on it is a reuse.
      clock.advance(2);
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, t.refresh_token));

      // The successor fails too, both tokens are inactive, the grant is revoked and its status bit set.
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, next.refresh_token));
      expect(await introspect(app, fx.rs, next.access_token)).toEqual({ active: false });
      expect(await introspect(app, fx.rs, next.refresh_token)).toEqual({ active: false });
      expect(await introspect(app, fx.rs, t.access_token)).toEqual({ active: false });
      const grant = await grantRow(app, t.grant_id);
      expect(grant.revoked_at).not.toBeNull();
      expect(grant.user_id).toBe(bob.id);
      expect(await app.deps.db('revocations').where({ grant_id: t.grant_id }).first()).toMatchObject({ reason: 'rotated refresh token reused', revoked_by: 'system' });
      expect(await statusBit(app, t.status_index)).toBe(1);
    });

    it('answers 10 concurrent refreshes of one token alike: all 200, one successor row, the grant not revoked', async () => {
      await createUser(app.deps, { username: 'frank', password: PASSWORD });
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { username: 'frank' });
      expect(await countRows(app, 'refresh_tokens', { grant_id: t.grant_id })).toBe(1);
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(app, fx.spa.client_id, t.refresh_token)));
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
      const bodies = await Promise.all(answers.map((r) => r.json()));
      expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1);
      expect(new Set(bodies.map((b) => b.access_token)).size).toBe(1);
      expect(bodies[0].refresh_token).not.toBe(t.refresh_token);
      expect(await countRows(app, 'refresh_tokens', { grant_id: t.grant_id })).toBe(2);
      expect(await app.deps.db('refresh_tokens').where({ grant_id: t.grant_id }).whereNotNull('used_at')).toHaveLength(1);
      expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
      expect(await countRows(app, 'revocations', { grant_id: t.grant_id })).toBe(0);
      // The one successor works.
      clock.advance(1);
      expect((await refresh(app, fx.spa.client_id, bodies[0].refresh_token)).status).toBe(200);
    });

    it('lets a refresh narrow the scope and refuses widening it with invalid_scope (RFC 6749 §6)', async () => {
      const person = new Person(app.url);
      await createUser(app.deps, { username: 'carol', password: PASSWORD });
      const t = await delegatedTokens(app, person, fx.spa.client_id, { username: 'carol', scope: 'photos:read photos:write' });
      expect(t.scope).toBe('photos:read photos:write');

      clock.advance(1);
      const narrowed = await refresh(app, fx.spa.client_id, t.refresh_token, { scope: 'photos:read' });
      expect(narrowed.status).toBe(200);
      const n = await narrowed.json();
      expect(n.scope).toBe('photos:read');
      expect(await introspect(app, fx.rs, n.access_token)).toMatchObject({ active: true, scope: 'photos:read' });
      // Narrowing one access token does not shrink the grant: the successor may ask for both again.
      clock.advance(1);
      const both = await refresh(app, fx.spa.client_id, n.refresh_token, { scope: 'photos:write photos:read' });
      expect(both.status).toBe(200);
      const b = await both.json();

      clock.advance(1);
      const widened = await refresh(app, fx.spa.client_id, b.refresh_token, { scope: 'photos:read admin' });
      expect(widened.status).toBe(400);
      expect((await widened.json()).error).toBe('invalid_scope');
      // A refused widening neither spends the token nor revokes anything.
      expect((await refresh(app, fx.spa.client_id, b.refresh_token)).status).toBe(200);
      expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
    });

    it('refuses the refresh token of another client with invalid_grant, and revokes nothing', async () => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      const other = await app.client({ name: 'Other app', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read'] });
      const web = await app.client({ name: 'Web app', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT], scopes: ['photos:read'] });
      await expectInvalidGrant(await refresh(app, other.client_id, t.refresh_token));
      await expectInvalidGrant(await app.token({ grant_type: 'refresh_token', refresh_token: t.refresh_token }, { basic: [web.client_id, web.client_secret] }));
      expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
      expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(200);
    });

    it('lets a public client refresh by client_id alone, and refuses a secret it does not have (invalid_client)', async () => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      const withSecret = await refresh(app, fx.spa.client_id, t.refresh_token, { client_secret: 'guess' });
      expect(withSecret.status).toBe(401);
      expect((await withSecret.json()).error).toBe('invalid_client');
      const noClient = await app.token({ grant_type: 'refresh_token', refresh_token: t.refresh_token });
      expect(noClient.status).toBe(401);
      expect((await noClient.json()).error).toBe('invalid_client');
      const res = await refresh(app, fx.spa.client_id, t.refresh_token);
      expect(res.status).toBe(200);
    });

    it('refuses unknown and malformed refresh tokens with invalid_grant', async () => {
      for (const token of ['nope', 'a'.repeat(43), 'x'.repeat(600), "' OR '1'='1"]) await expectInvalidGrant(await refresh(app, fx.spa.client_id, token));
      const missing = await app.token({ grant_type: 'refresh_token', client_id: fx.spa.client_id });
      expect(missing.status).toBe(400);
      expect((await missing.json()).error).toBe('invalid_request');
    });
  });

  describe('the refresh race across a second boundary', () => {
    // While `ticking`, the clock moves one second after its first reading: the concurrent refreshes
    // straddle a second boundary, some beginning before it and the rotation committed after it.
    let t = Math.floor(Date.now() / 1000);
    let ticking = false;
    const clock = { now: () => (ticking && !(ticking = false) ? t++ : t) };
    let app: TestApp;
    let fx: Delegated;
    beforeAll(async () => {
      app = await startTestApp({ clock });
      fx = await delegatedFixture(app);
    });
    afterAll(() => app.close());

    it('answers the losers of a concurrent rotation with the winner\'s tokens even when the clock ticked past the grace window (regression: they revoked the grant)', async () => {
      const tokens = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      ticking = true;
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(app, fx.spa.client_id, tokens.refresh_token)));
      ticking = false;
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
      const bodies = await Promise.all(answers.map((r) => r.json()));
      expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1);
      expect((await grantRow(app, tokens.grant_id)).revoked_at).toBeNull();
      expect(await introspect(app, fx.rs, bodies[0].refresh_token)).toMatchObject({ active: true });
      // A reuse after the rotation is still a reuse.
      t += 5;
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, tokens.refresh_token));
      expect((await grantRow(app, tokens.grant_id)).revoked_at).not.toBeNull();
    });
  });

  describe('grace window (REFRESH_GRACE=30)', () => {
    const clock = fixedClock(Math.floor(Date.now() / 1000));
    let app: TestApp;
    let fx: Delegated;
    beforeAll(async () => {
      app = await startTestApp({ clock, env: { REFRESH_GRACE: '30' } });
      fx = await delegatedFixture(app);
    });
    afterAll(() => app.close());

    it('answers a repeat within the window with the same access and refresh token, and writes nothing', async () => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
      const first = await (await refresh(app, fx.spa.client_id, t.refresh_token)).json();
      const rows = await countRows(app, 'refresh_tokens', { grant_id: t.grant_id });
      clock.advance(30);
      const repeat = await refresh(app, fx.spa.client_id, t.refresh_token);
      expect(repeat.status).toBe(200);
      expect(await repeat.json()).toEqual(first);
      expect(await countRows(app, 'refresh_tokens', { grant_id: t.grant_id })).toBe(rows);
      expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
      expect(await introspect(app, fx.rs, first.refresh_token)).toMatchObject({ active: true });
    });

    it('revokes the grant when the old token comes back after the window', async () => {
      const person = new Person(app.url);
      await createUser(app.deps, { username: 'dave', password: PASSWORD });
      const t = await delegatedTokens(app, person, fx.spa.client_id, { username: 'dave' });
      const first = await (await refresh(app, fx.spa.client_id, t.refresh_token)).json();
      clock.advance(31);
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, t.refresh_token));
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, first.refresh_token));
      expect(await introspect(app, fx.rs, first.access_token)).toEqual({ active: false });
      expect((await grantRow(app, t.grant_id)).revoked_at).not.toBeNull();
      expect(await statusBit(app, t.status_index)).toBe(1);
    });
  });

  describe('grant lifetime (GRANT_MAX_LIFETIME=900, GRANT_IDLE_TIMEOUT=400)', () => {
    const clock = fixedClock(Math.floor(Date.now() / 1000));
    let app: TestApp;
    let fx: Delegated;
    let ended: string;
    beforeAll(async () => {
      app = await startTestApp({ clock, env: { GRANT_MAX_LIFETIME: '900', GRANT_IDLE_TIMEOUT: '400' } });
      fx = await delegatedFixture(app);
    });
    afterAll(() => app.close());

    it('ends a grant at its absolute lifetime even while it is used (invalid_grant)', async () => {
      const person = new Person(app.url);
      let t = await delegatedTokens(app, person, fx.spa.client_id);
      ended = t.grant_id;
      for (let i = 0; i < 2; i++) {
        clock.advance(399); // used within the idle timeout each time
        const res = await refresh(app, fx.spa.client_id, t.refresh_token);
        expect(res.status).toBe(200);
        t = { ...t, ...(await res.json()) };
      }
      clock.advance(102); // created_at + 900
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, t.refresh_token));
      expect(await introspect(app, fx.rs, t.refresh_token)).toEqual({ active: false });
    });

    it('ends a grant unused for GRANT_IDLE_TIMEOUT (invalid_grant)', async () => {
      await createUser(app.deps, { username: 'erin', password: PASSWORD });
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { username: 'erin' });
      clock.advance(400);
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, t.refresh_token));
    });

    it('starts a new grant when the person authorizes the app again after the old one ended', async () => {
      // alice's grant ended at its absolute lifetime in the first test; consent given to it does not carry a dead grant on.
      const person = new Person(app.url);
      const t = await delegatedTokens(app, person, fx.spa.client_id);
      expect(t.grant_id).not.toBe(ended);
      expect(await grantRow(app, t.grant_id)).toMatchObject({ user_id: fx.alice.id, revoked_at: null, expires_at: expect.anything() });
      clock.advance(10);
      expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(200);
    });
  });
});

/**
 * Redeeming authorization codes at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6,
 * RFC 9700 §4.5 and §4.8.2): single use with revocation on replay, expiry, the binding to client
 * and redirect URI, PKCE and its downgrade, and a confidential client using the flow.
 */
import { createHash } from 'node:crypto';
import { fixedClock } from '../../src/lib/clock.js';
import { updateClient } from '../../src/registry/clients.js';
import { Person } from '../helpers/browserless.js';
import { API, countRows, delegatedFixture, grantRow, introspect, obtainCode, redeem, REDIRECT, statusBit, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('authorization codes at the token endpoint', () => {
  const clock = fixedClock(Math.floor(Date.now() / 1000));
  let app: TestApp;
  let fx: Delegated;
  let person: Person;

  beforeAll(async () => {
    app = await startTestApp({ clock });
    fx = await delegatedFixture(app);
    person = new Person(app.url);
  });
  afterAll(() => app.close());

  const expectInvalidGrant = async (res: Awaited<ReturnType<typeof redeem>>) => {
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await res.json()).error).toBe('invalid_grant');
  };

  it('trades a code once; its stored row is marked used and a refresh token row is stored', async () => {
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    const res = await redeem(app, fx.spa.client_id, code, verifier);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'photos:read', refresh_token: expect.any(String) });
    const rows = await app.deps.db('authorization_codes').whereNotNull('used_at');
    expect(rows.length).toBeGreaterThanOrEqual(1);
    // Only hashes are stored: neither the code nor the refresh token appears in a row.
    expect(JSON.stringify(await app.deps.db('authorization_codes'))).not.toContain(code);
    expect(JSON.stringify(await app.deps.db('refresh_tokens'))).not.toContain(body.refresh_token);
  });

  it('refuses a second redemption with invalid_grant and revokes every token issued from the first (RFC 6749 §4.1.2, RFC 9700 §4.5)', async () => {
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    const first = await (await redeem(app, fx.spa.client_id, code, verifier)).json();
    const access = await introspect(app, fx.rs, first.access_token);
    expect(access).toMatchObject({ active: true, client_id: fx.spa.client_id, sub: fx.alice.id });
    expect(await introspect(app, fx.rs, first.refresh_token)).toMatchObject({ active: true, token_type: 'refresh_token' });
    const grantId = access.grant_id as string;
    const statusIdx = (await grantRow(app, grantId)).status_index;
    expect(await statusBit(app, Number(statusIdx))).toBe(0);

    await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier));

    expect(await introspect(app, fx.rs, first.access_token)).toEqual({ active: false });
    expect(await introspect(app, fx.rs, first.refresh_token)).toEqual({ active: false });
    expect((await grantRow(app, grantId)).revoked_at).not.toBeNull();
    expect(await app.deps.db('revocations').where({ grant_id: grantId }).first()).toMatchObject({ reason: 'authorization code replayed', revoked_by: 'system' });
    expect(await statusBit(app, Number(statusIdx))).toBe(1);
    // The refresh token of the first redemption is dead too.
    const refreshed = await app.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: fx.spa.client_id });
    await expectInvalidGrant(refreshed);
  });

  it('lets one of concurrent redemptions of a code win; the others are replays: invalid_grant and the grant revoked', async () => {
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    const answers = await Promise.all(Array.from({ length: 5 }, () => redeem(app, fx.spa.client_id, code, verifier)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
    const winner = await answers.find((r) => r.status === 200)!.json();
    for (const r of answers.filter((a) => a.status === 400)) expect((await r.json()).error).toBe('invalid_grant');
    expect(await introspect(app, fx.rs, winner.access_token)).toEqual({ active: false });
    expect(await introspect(app, fx.rs, winner.refresh_token)).toEqual({ active: false });
  });

  it('refuses a code past CODE_TTL with invalid_grant, and accepts one just inside it', async () => {
    const inside = await obtainCode(person, fx.spa.client_id);
    clock.advance(59);
    expect((await redeem(app, fx.spa.client_id, inside.code, inside.verifier)).status).toBe(200);

    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    clock.advance(60); // CODE_TTL defaults to 60 s; a code is dead at created_at + 60
    await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier));
    clock.advance(1);
    await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier));
    // An expired code is not a replay: nothing was revoked.
    expect(await countRows(app, 'revocations')).toBe(2);
  });

  it('refuses the code of another client with invalid_grant, without spending it', async () => {
    const other = await app.client({ name: 'Other app', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    const confidential = await app.client({ name: 'Server app', grant_types: ['authorization_code'], redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    const { code, verifier } = await obtainCode(person, fx.spa.client_id);
    await expectInvalidGrant(await redeem(app, other.client_id, code, verifier));
    const res = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier! }, { basic: [confidential.client_id, confidential.client_secret] });
    await expectInvalidGrant(res);
    // The rightful client still can.
    expect((await redeem(app, fx.spa.client_id, code, verifier)).status).toBe(200);
  });

  describe('redirect_uri (RFC 6749 §4.1.3)', () => {
    it('refuses a different redirect_uri with invalid_grant', async () => {
      const { code, verifier } = await obtainCode(person, fx.spa.client_id);
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier, { redirect_uri: `${REDIRECT}/` }));
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier, { redirect_uri: 'https://evil.example/callback' }));
    });

    it('refuses a missing redirect_uri when the authorization request sent one', async () => {
      const { code, verifier } = await obtainCode(person, fx.spa.client_id);
      const res = await app.token({ grant_type: 'authorization_code', code, client_id: fx.spa.client_id, code_verifier: verifier! });
      await expectInvalidGrant(res);
      expect((await redeem(app, fx.spa.client_id, code, verifier)).status).toBe(200);
    });

    it('accepts a missing redirect_uri when the authorization request omitted it (one registered URI), and refuses a different one', async () => {
      const a = await obtainCode(person, fx.spa.client_id, { extra: { redirect_uri: undefined } });
      expect(`${a.back.origin}${a.back.pathname}`).toBe(REDIRECT);
      expect((await app.token({ grant_type: 'authorization_code', code: a.code, client_id: fx.spa.client_id, code_verifier: a.verifier! })).status).toBe(200);
      const b = await obtainCode(person, fx.spa.client_id, { extra: { redirect_uri: undefined } });
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, b.code, b.verifier, { redirect_uri: 'https://app.example.com/other' }));
      expect((await redeem(app, fx.spa.client_id, b.code, b.verifier)).status).toBe(200);
    });
  });

  describe('PKCE (RFC 7636 §4.6, RFC 9700 §4.8.2)', () => {
    it('refuses a wrong verifier with invalid_grant', async () => {
      const { code, verifier } = await obtainCode(person, fx.spa.client_id);
      const wrong = `${verifier!.slice(0, -1)}${verifier!.endsWith('A') ? 'B' : 'A'}`;
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, wrong));
      // The challenge itself is not a verifier either.
      const challenge = createHash('sha256').update(verifier!).digest('base64url');
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, challenge));
      expect((await redeem(app, fx.spa.client_id, code, verifier)).status).toBe(200);
    });

    it('refuses a missing verifier when the code was issued with a challenge', async () => {
      const { code, verifier } = await obtainCode(person, fx.spa.client_id);
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, undefined));
      expect((await redeem(app, fx.spa.client_id, code, verifier)).status).toBe(200);
    });

    it('refuses verifiers of bad length or characters even when they hash to the challenge', async () => {
      for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `]) {
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        const { code } = await obtainCode(person, fx.spa.client_id, { extra: { code_challenge: challenge, code_challenge_method: 'S256' } });
        await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier));
      }
      for (const verifier of ['a'.repeat(43), '~'.repeat(128)]) {
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        const { code } = await obtainCode(person, fx.spa.client_id, { extra: { code_challenge: challenge, code_challenge_method: 'S256' } });
        expect((await redeem(app, fx.spa.client_id, code, verifier)).status).toBe(200);
      }
    });
  });

  it('issues no refresh token to a client not registered for the refresh_token grant', async () => {
    const once = await app.client({ name: 'No refresh', type: 'public', grant_types: ['authorization_code'], redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    const { code, verifier } = await obtainCode(person, once.client_id);
    const res = await redeem(app, once.client_id, code, verifier);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.refresh_token).toBeUndefined();
    expect(await countRows(app, 'refresh_tokens', { client_id: once.client_id })).toBe(0);
  });

  it('refuses codes and refresh tokens of a client disabled since (invalid_client)', async () => {
    const soon = await app.client({ name: 'Soon disabled', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    const first = await obtainCode(person, soon.client_id);
    const tokens = await (await redeem(app, soon.client_id, first.code, first.verifier)).json();
    const { code, verifier } = await obtainCode(person, soon.client_id);
    await updateClient(app.deps, soon.client_id, { disabled: true });
    const res = await redeem(app, soon.client_id, code, verifier);
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_client');
    const refreshed = await app.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: soon.client_id });
    expect(refreshed.status).toBe(401);
    expect((await refreshed.json()).error).toBe('invalid_client');
  });

  describe('a confidential client (client_secret_basic)', () => {
    let web: { client_id: string; client_secret: string };
    const basic = (): [string, string] => [web.client_id, web.client_secret];
    beforeAll(async () => {
      web = await app.client({ name: 'Photo Site', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    });

    it('redeems a code with PKCE', async () => {
      const { code, verifier } = await obtainCode(person, web.client_id);
      const res = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier! }, { basic: basic() });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ token_type: 'Bearer', scope: 'photos:read', refresh_token: expect.any(String) });
    });

    it('redeems a code without PKCE, and refuses a verifier the authorization request had no challenge for (PKCE downgrade)', async () => {
      const a = await obtainCode(person, web.client_id, { pkce: false });
      const res = await app.token({ grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT }, { basic: basic() });
      expect(res.status).toBe(200);
      const tokens = await res.json();
      expect(await introspect(app, fx.rs, tokens.access_token)).toMatchObject({ active: true, client_id: web.client_id, aud: API });

      const b = await obtainCode(person, web.client_id, { pkce: false });
      const downgraded = await app.token({ grant_type: 'authorization_code', code: b.code, redirect_uri: REDIRECT, code_verifier: 'a'.repeat(43) }, { basic: basic() });
      await expectInvalidGrant(downgraded);
    });

    it('refuses the code to the same client with a wrong secret (invalid_client, 401) without spending it', async () => {
      const { code } = await obtainCode(person, web.client_id, { pkce: false });
      const res = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { basic: [web.client_id, 'wrong'] });
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_client');
      // Without the secret, as if it were public, is no better.
      const bare = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: web.client_id });
      expect(bare.status).toBe(401);
      expect((await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { basic: basic() })).status).toBe(200);
    });
  });
});

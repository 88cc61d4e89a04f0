/**
 * Issue #10, item 2 (regression: a refresh kept scopes an admin took away, for up to
 * GRANT_MAX_LIFETIME). A refresh and a code redemption issue only grant scope ∩ the client's
 * scopes now ∩ the resource's scopes now; the grant (and the successor refresh token) is narrowed
 * to match in the same transaction; a grant left with nothing is refused with invalid_grant.
 */
import { decodeJwt } from 'jose';
import { Person } from '../helpers/browserless.js';
import { API, countRows, delegatedFixture, delegatedTokens, introspect, obtainCode, redeem, refresh, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type JsonResponse, type TestApp } from '../helpers/test-app.js';

const BOTH = 'photos:read photos:write';

describe('scopes taken away by an admin (issue #10 item 2: refresh kept scopes an admin took away)', () => {
  let app: TestApp;
  let fx: Delegated;
  let admin: string;
  beforeEach(async () => {
    app = await startTestApp();
    fx = await delegatedFixture(app);
    admin = await app.adminToken();
  });
  afterEach(() => app.close());

  const scopeOf = (token: string) => decodeJwt(token).scope;
  const grantView = async (id: string) => (await app.request(`/admin/grants/${id}`, { token: admin })).json();
  const setClientScopes = async (scopes: string[]) => {
    const res = await app.request(`/admin/clients/${fx.spa.client_id}`, { method: 'PATCH', token: admin, json: { scopes } });
    expect(res.status).toBe(200);
  };
  const setResourceScopes = async (names: string[]) => {
    const { items } = await (await app.request('/admin/resources', { token: admin })).json();
    const photos = items.find((r: { identifier: string }) => r.identifier === API);
    const res = await app.request(`/admin/resources/${photos.id}`, { method: 'PATCH', token: admin, json: { scopes: names.map((name) => ({ name, description: name })) } });
    expect(res.status).toBe(200);
  };
  const expectInvalidGrant = async (res: JsonResponse) => {
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
  };

  describe('at refresh', () => {
    it.each([
      ['the client', (s: string[]) => setClientScopes(s)],
      ['the resource', (s: string[]) => setResourceScopes(s)],
    ])('issues without a scope taken from %s, and narrows the grant and the successor refresh token', async (_from, take) => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { scope: BOTH });
      expect(scopeOf(t.access_token)).toBe(BOTH);

      await take(['photos:read']);
      const res = await refresh(app, fx.spa.client_id, t.refresh_token);
      expect(res.status).toBe(200);
      const next = await res.json();
      expect(next.scope).toBe('photos:read');
      expect(scopeOf(next.access_token)).toBe('photos:read');
      expect((await grantView(t.grant_id)).scope).toBe('photos:read');
      expect(await introspect(app, fx.rs, next.refresh_token)).toMatchObject({ active: true, scope: 'photos:read' });

      // Given back later, the scope does not come back by itself: the person must approve it again.
      await take(['photos:read', 'photos:write']);
      const again = await (await refresh(app, fx.spa.client_id, next.refresh_token)).json();
      expect(again.scope).toBe('photos:read');
    });

    it.each([
      ['the client', (s: string[]) => setClientScopes(s)],
      ['the resource', (s: string[]) => setResourceScopes(s)],
    ])('refuses with invalid_grant, and changes nothing, when every scope of the grant was taken from %s', async (_from, take) => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { scope: BOTH });
      await take([]);
      const rowsBefore = await app.deps.db('refresh_tokens').where({ grant_id: t.grant_id });
      await expectInvalidGrant(await refresh(app, fx.spa.client_id, t.refresh_token));
      expect(await app.deps.db('refresh_tokens').where({ grant_id: t.grant_id })).toEqual(rowsBefore);
      expect((await grantView(t.grant_id)).scope).toBe(BOTH);
    });

    it('refuses with invalid_scope a narrowing request for a scope taken away since', async () => {
      const t = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { scope: BOTH });
      await setClientScopes(['photos:read']);
      const res = await refresh(app, fx.spa.client_id, t.refresh_token, { scope: 'photos:write' });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_scope');
      expect(await countRows(app, 'refresh_tokens', { grant_id: t.grant_id })).toBe(1);
    });
  });

  describe('at code redemption', () => {
    it.each([
      ['the client', (s: string[]) => setClientScopes(s)],
      ['the resource', (s: string[]) => setResourceScopes(s)],
    ])('issues without a scope taken from %s after the code was issued, and narrows the grant', async (_from, take) => {
      const person = new Person(app.url);
      const { code, verifier } = await obtainCode(person, fx.spa.client_id, { extra: { scope: BOTH } });
      await take(['photos:read']);
      const res = await redeem(app, fx.spa.client_id, code, verifier);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.scope).toBe('photos:read');
      expect(scopeOf(body.access_token)).toBe('photos:read');
      const grantId = decodeJwt(body.access_token).grant_id as string;
      expect((await grantView(grantId)).scope).toBe('photos:read');
      expect(await introspect(app, fx.rs, body.refresh_token)).toMatchObject({ active: true, scope: 'photos:read' });
    });

    it.each([
      ['the client', (s: string[]) => setClientScopes(s)],
      ['the resource', (s: string[]) => setResourceScopes(s)],
    ])('refuses with invalid_grant, without spending the code, when every scope was taken from %s', async (_from, take) => {
      const person = new Person(app.url);
      const { code, verifier } = await obtainCode(person, fx.spa.client_id, { extra: { scope: BOTH } });
      await take([]);
      await expectInvalidGrant(await redeem(app, fx.spa.client_id, code, verifier));
      expect(await countRows(app, 'authorization_codes', { used_at: null })).toBe(1);
      expect(await countRows(app, 'refresh_tokens')).toBe(0);
    });
  });
});

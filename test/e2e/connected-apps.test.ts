/**
 * The connected-apps page (/account): a person sees the apps they let in, with scopes and date,
 * and can take access back; revoking there revokes the grant (RFC 7009 §2.1 semantics: every
 * token of it), and nobody can revoke another person's grant by naming its id.
 */
import { createUser } from '../../src/registry/users.js';
import { formFields, Person } from '../helpers/browserless.js';
import { delegatedFixture, delegatedTokens, grantRow, introspect, PASSWORD, REDIRECT, refresh, signIn, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('connected apps page', () => {
  let app: TestApp;
  let fx: Delegated;
  let alice: Person;
  let bob: Person;
  let albums: { client_id: string };

  beforeAll(async () => {
    app = await startTestApp();
    fx = await delegatedFixture(app);
    albums = await app.client({ name: 'Album Maker', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read'] });
    await createUser(app.deps, { username: 'bob', password: PASSWORD });
    alice = new Person(app.url);
    bob = new Person(app.url);
  });
  afterAll(() => app.close());

  const accountPage = async (person: Person) => {
    const res = await person.get('/account');
    expect(res.status).toBe(200);
    return res.text();
  };
  const rowOf = (page: string, grantId: string) => new RegExp(`<tr data-grant="${grantId}">[\\s\\S]*?</tr>`).exec(page)?.[0];

  it('sends a person who is not signed in to the login page, returning to /account', async () => {
    const res = await new Person(app.url).get('/account');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?return_to=%2Faccount');
  });

  it('lists the person\'s apps with their API, scopes and the date access was given, and only theirs', async () => {
    const a = await delegatedTokens(app, alice, fx.spa.client_id, { scope: 'photos:read photos:write' });
    const b = await delegatedTokens(app, bob, albums.client_id, { username: 'bob' });
    const page = await accountPage(alice);
    expect(page).toContain('Signed in as <strong>alice</strong>');
    const row = rowOf(page, a.grant_id)!;
    expect(row).toContain('<strong>Photo Printer</strong>');
    expect(row).toContain('Photos');
    expect(row).toContain('<code title="See your photos">photos:read</code>');
    expect(row).toContain('<code title="Upload photos">photos:write</code>');
    const created = Number((await grantRow(app, a.grant_id)).created_at);
    expect(row).toContain(`<td>${new Date(created * 1000).toISOString().slice(0, 10)}</td>`);
    expect(row).toContain(`action="/account/grants/${a.grant_id}/revoke"`);
    // bob's app is not on alice's page.
    expect(page).not.toContain(b.grant_id);
    expect(page).not.toContain('Album Maker');
    expect(await accountPage(bob)).toContain('Album Maker');
  });

  it('revokes a grant from the page: refresh then fails, tokens are inactive, the entry names the person', async () => {
    const t = await delegatedTokens(app, alice, fx.spa.client_id);
    const page = await accountPage(alice);
    expect(rowOf(page, t.grant_id)).toBeDefined();
    const res = await alice.post(`/account/grants/${t.grant_id}/revoke`, { csrf: formFields(page).csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?revoked=1');

    expect((await grantRow(app, t.grant_id)).revoked_at).not.toBeNull();
    expect(await app.deps.db('revocations').where({ grant_id: t.grant_id }).first()).toMatchObject({ revoked_by: `user:${fx.alice.id}` });
    const refreshed = await refresh(app, fx.spa.client_id, t.refresh_token);
    expect(refreshed.status).toBe(400);
    expect((await refreshed.json()).error).toBe('invalid_grant');
    expect(await introspect(app, fx.rs, t.access_token)).toEqual({ active: false });

    const after = await (await alice.get('/account?revoked=1')).text();
    expect(after).toContain('Access revoked.');
    expect(after).not.toContain(t.grant_id);

    // Using the app again asks for consent again and starts a new grant.
    const again = await delegatedTokens(app, alice, fx.spa.client_id);
    expect(again.grant_id).not.toBe(t.grant_id);
  });

  it('does not let a person revoke another person\'s grant by id (the answer looks the same, nothing changes)', async () => {
    const t = await delegatedTokens(app, alice, fx.spa.client_id);
    const bobPage = await accountPage(bob);
    const res = await bob.post(`/account/grants/${t.grant_id}/revoke`, { csrf: formFields(bobPage).csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account?revoked=1');
    expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
    expect(await app.deps.db('revocations').where({ grant_id: t.grant_id })).toHaveLength(0);
    expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(200);
  });

  it('does not revoke anything for a visitor who is not signed in, nor for unknown or hostile ids', async () => {
    const t = await delegatedTokens(app, alice, fx.spa.client_id);
    const stranger = new Person(app.url);
    const { csrf } = formFields(await (await stranger.get('/login')).text());
    const res = await stranger.post(`/account/grants/${t.grant_id}/revoke`, { csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?return_to=%2Faccount');
    const page = await accountPage(alice);
    for (const id of ['nope', "' OR '1'='1", '%2e%2e', 'x'.repeat(300)]) {
      const r = await alice.post(`/account/grants/${encodeURIComponent(id)}/revoke`, { csrf: formFields(page).csrf });
      expect(r.status).toBe(303);
    }
    expect((await grantRow(app, t.grant_id)).revoked_at).toBeNull();
  });

  it('ends the session on sign-out; the page then asks to sign in again', async () => {
    const person = new Person(app.url);
    await signIn(person, 'bob');
    const { csrf } = formFields(await accountPage(person));
    expect((await person.post('/logout', { csrf })).status).toBe(303);
    expect((await person.get('/account')).status).toBe(302);
  });
});

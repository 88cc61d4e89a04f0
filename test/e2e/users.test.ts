/**
 * People: the admin API's /admin/users (the password is never returned and stored only as a scrypt
 * hash), what disabling or deleting someone does to their grants and sessions, and the CLI reading
 * a new person's password from stdin, never from argv.
 */
import { Person } from '../helpers/browserless.js';
import { delegatedFixture, delegatedTokens, grantRow, introspect, PASSWORD, refresh, signIn, type Delegated } from '../helpers/delegated.js';
import { runCliProcess } from '../helpers/processes.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('admin API: /admin/users', () => {
  let app: TestApp;
  let admin: string;
  let fx: Delegated;
  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.adminToken();
    fx = await delegatedFixture(app);
  });
  afterAll(() => app.close());

  const VIEW_KEYS = ['created_at', 'disabled', 'id', 'updated_at', 'username'];
  const create = (body: unknown) => app.request('/admin/users', { method: 'POST', token: admin, json: body });

  it('requires an admin token', async () => {
    const res = await app.request('/admin/users', { method: 'POST', json: { username: 'x', password: PASSWORD } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('creates, reads, lists, updates and deletes a person, never returning the password or its hash', async () => {
    const res = await create({ username: 'grace', password: 'a long passphrase 1' });
    expect(res.status).toBe(201);
    const user = await res.json();
    expect(Object.keys(user).sort()).toEqual(VIEW_KEYS);
    expect(user).toMatchObject({ id: expect.any(String), username: 'grace', disabled: false, created_at: expect.any(Number) });

    const row = await app.deps.db('users').where({ id: user.id }).first();
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(row.password_hash).not.toContain('a long passphrase 1');

    const one = await app.request(`/admin/users/${user.id}`, { token: admin });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(user);
    const list = await (await app.request('/admin/users?limit=200', { token: admin })).json();
    expect(list.items.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['alice', 'grace']));
    for (const u of list.items) expect(Object.keys(u).sort()).toEqual(VIEW_KEYS);
    expect(JSON.stringify(list)).not.toMatch(/password|scrypt/);

    const patched = await app.request(`/admin/users/${user.id}`, { method: 'PATCH', token: admin, json: { password: 'another passphrase 2' } });
    expect(patched.status).toBe(200);
    const body = await patched.json();
    expect(Object.keys(body).sort()).toEqual(VIEW_KEYS);
    const newRow = await app.deps.db('users').where({ id: user.id }).first();
    expect(newRow.password_hash).not.toBe(row.password_hash);
    expect((await signIn(new Person(app.url), 'grace', 'a long passphrase 1')).status).toBe(401);
    expect((await signIn(new Person(app.url), 'grace', 'another passphrase 2')).status).toBe(303);

    const deleted = await app.request(`/admin/users/${user.id}`, { method: 'DELETE', token: admin });
    expect(deleted.status).toBe(204);
    expect((await app.request(`/admin/users/${user.id}`, { token: admin })).status).toBe(404);
    expect((await app.request(`/admin/users/${user.id}`, { method: 'DELETE', token: admin })).status).toBe(404);
    expect((await app.request(`/admin/users/${user.id}`, { method: 'PATCH', token: admin, json: { disabled: true } })).status).toBe(404);
    expect(await app.deps.db('users').where({ id: user.id }).first()).toBeUndefined();
  });

  it('refuses a taken username with 409 conflict', async () => {
    expect((await create({ username: 'heidi', password: PASSWORD })).status).toBe(201);
    const res = await create({ username: 'heidi', password: 'something else 1' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'conflict', error_description: 'username: taken' });
    expect(await app.deps.db('users').where({ username: 'heidi' })).toHaveLength(1);
  });

  it.each([
    [{ username: 'ivan', password: 'short' }, 'password'],
    [{ username: 'ivan', password: '1234567' }, 'password'],
    [{ username: 'ivan', password: '' }, 'password'],
    [{ username: 'ivan' }, 'password'],
    [{ username: 'ivan', password: 12345678 }, 'password'],
    [{ username: 'ivan', password: 'x'.repeat(1025) }, 'password'],
    [{ username: '', password: PASSWORD }, 'username'],
    [{ username: 'has space', password: PASSWORD }, 'username'],
    [{ username: '<script>', password: PASSWORD }, 'username'],
    [{ username: 'x'.repeat(65), password: PASSWORD }, 'username'],
    [{ password: PASSWORD }, 'username'],
  ])('refuses %j with 400 naming the field %s', async (body, field) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    const err = await res.json();
    expect(err.error).toBe('invalid_request');
    expect(err.error_description).toMatch(new RegExp(`^${field}: `));
    expect(await app.deps.db('users').where({ username: 'ivan' })).toHaveLength(0);
  });

  it('refuses unknown fields, such as a ready-made password_hash', async () => {
    const res = await create({ username: 'judy', password: PASSWORD, password_hash: 'scrypt$1$1$1$AA$AA' });
    expect(res.status).toBe(400);
    expect((await res.json()).error_description).toMatch(/unknown field/);
    const patch = await app.request(`/admin/users/${fx.alice.id}`, { method: 'PATCH', token: admin, json: { password: 'short' } });
    expect(patch.status).toBe(400);
    expect((await patch.json()).error_description).toMatch(/^password: /);
  });

  it('disabling a person revokes their grants (tokens inactive) and ends their sessions; enabling does not bring them back', async () => {
    const kim = await (await create({ username: 'kim', password: PASSWORD })).json();
    const person = new Person(app.url);
    const t = await delegatedTokens(app, person, fx.spa.client_id, { username: 'kim' });
    expect((await person.get('/account')).status).toBe(200);
    expect(await introspect(app, fx.rs, t.access_token)).toMatchObject({ active: true, sub: kim.id });

    const res = await app.request(`/admin/users/${kim.id}`, { method: 'PATCH', token: admin, json: { disabled: true } });
    expect(res.status).toBe(200);
    expect((await res.json()).disabled).toBe(true);

    expect(await introspect(app, fx.rs, t.access_token)).toEqual({ active: false });
    expect(await introspect(app, fx.rs, t.refresh_token)).toEqual({ active: false });
    expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(400);
    expect((await grantRow(app, t.grant_id)).revoked_at).not.toBeNull();
    expect(await app.deps.db('sessions').where({ user_id: kim.id })).toHaveLength(0);
    expect((await person.get('/account')).status).toBe(302);
    expect((await signIn(new Person(app.url), 'kim')).status).toBe(401);

    await app.request(`/admin/users/${kim.id}`, { method: 'PATCH', token: admin, json: { disabled: false } });
    expect((await signIn(new Person(app.url), 'kim')).status).toBe(303);
    expect((await grantRow(app, t.grant_id)).revoked_at).not.toBeNull();
    expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(400);
  });

  it('treats usernames without regard to case: one person, whatever the capitals', async () => {
    const made = await (await create({ username: 'Nora', password: PASSWORD })).json();
    expect(made.username).toBe('nora');
    expect((await create({ username: 'NORA', password: PASSWORD })).status).toBe(409);
    expect((await signIn(new Person(app.url), 'nOrA')).status).toBe(303);
  });

  it('a new password signs the person out everywhere', async () => {
    const ola = await (await create({ username: 'ola', password: PASSWORD })).json();
    const person = new Person(app.url);
    expect((await signIn(person, 'ola')).status).toBe(303);
    expect((await person.get('/account')).status).toBe(200);
    await app.request(`/admin/users/${ola.id}`, { method: 'PATCH', token: admin, json: { password: 'another long password' } });
    expect((await person.get('/account')).status).toBe(302);
    expect((await signIn(new Person(app.url), 'ola')).status).toBe(401);
    expect((await signIn(new Person(app.url), 'ola', 'another long password')).status).toBe(303);
  });

  it('deleting a person revokes their grants and ends their sessions; the name can be used again', async () => {
    const leo = await (await create({ username: 'leo', password: PASSWORD })).json();
    const person = new Person(app.url);
    const t = await delegatedTokens(app, person, fx.spa.client_id, { username: 'leo' });
    const res = await app.request(`/admin/users/${leo.id}`, { method: 'DELETE', token: admin });
    expect(res.status).toBe(204);
    expect(await introspect(app, fx.rs, t.access_token)).toEqual({ active: false });
    expect((await refresh(app, fx.spa.client_id, t.refresh_token)).status).toBe(400);
    expect(await app.deps.db('revocations').where({ grant_id: t.grant_id }).first()).toMatchObject({ reason: 'user deleted' });
    expect(await app.deps.db('sessions').where({ user_id: leo.id })).toHaveLength(0);
    expect((await person.get('/account')).status).toBe(302);

    const again = await (await create({ username: 'leo', password: 'a new passphrase' })).json();
    expect(again.id).not.toBe(leo.id);
    // The new leo does not inherit the old one's grants.
    const listed = await (await app.request(`/admin/grants?user_id=${again.id}`, { token: admin })).json();
    expect(listed.items ?? []).toHaveLength(0);
  });
});

describe('CLI: grantor users create', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace('users');
  });
  afterAll(() => ws.remove());

  const cli = (args: string[], input?: string) => runCliProcess(args, { cwd: ws.cwd, env: { DATABASE_URL: ws.databaseUrl }, input });

  it('reads the password from stdin; the person can then sign in with it', async () => {
    const password = 'piped passphrase 42';
    const created = await cli(['users', 'create', '--username', 'mallory', '--json'], `${password}\n`);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const user = JSON.parse(created.stdout);
    expect(user).toEqual({ id: expect.any(String), username: 'mallory', disabled: false, created_at: expect.any(Number), updated_at: expect.any(Number) });
    expect(created.stdout).not.toContain(password);

    const app = await startTestApp({ env: { DATABASE_URL: ws.databaseUrl } });
    try {
      const row = await app.deps.db('users').where({ username: 'mallory' }).first();
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect((await signIn(new Person(app.url), 'mallory', password)).status).toBe(303);
      expect((await signIn(new Person(app.url), 'mallory', `${password}\n`)).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('refuses a password on the command line', async () => {
    const res = await cli(['users', 'create', '--username', 'nina', '--password', 'argv password 1'], 'argv password 1\n');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/unknown option '--password'/);
    const listed = await cli(['users', 'list', '--json']);
    expect(JSON.parse(listed.stdout).items.map((u: { username: string }) => u.username)).not.toContain('nina');
  });

  it('refuses a short password from stdin, naming the field, and creates nobody', async () => {
    const res = await cli(['users', 'create', '--username', 'oscar'], 'short\n');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('invalid_request: password: a password has at least 8 characters');
    const taken = await cli(['users', 'create', '--username', 'mallory'], 'another passphrase\n');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('conflict: username: taken');
    const listed = JSON.parse((await cli(['users', 'list', '--json'])).stdout);
    expect(listed.items.map((u: { username: string }) => u.username)).toEqual(['mallory']);
  });
});

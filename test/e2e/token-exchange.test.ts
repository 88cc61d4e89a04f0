/**
 * RFC 8693 token exchange (issue #12 item 3): a client given an access token of Grantor's trades it
 * for a token of another resource, acting for the token's subject; revoking the original grant
 * revokes everything derived from it.
 */
import { decodeJwt } from 'jose';
import { runCliProcess } from '../helpers/processes.js';
import { rawRequest } from '../helpers/raw-http.js';
import { inWorkspace } from '../helpers/workspace.js';
import { Person } from '../helpers/browserless.js';
import { countRows, delegatedFixture, grantRow, obtainCode, redeem, introspect, statusBit, type Creds, type Delegated } from '../helpers/delegated.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PHOTOS = 'https://photos.example.com';
const PRINT = 'https://print.example.com';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

type Claims = { sub: string; aud: string; exp: number; iat: number; client_id: string; scope: string; grant_id: string; act?: unknown; status: { status_list: { idx: number } } };
const claimsOf = (token: string) => decodeJwt(token) as unknown as Claims;
const basic = (c: Creds): [string, string] => [c.client_id, c.client_secret];

describe('token exchange (RFC 8693)', () => {
  let app: TestApp;
  let world: Delegated;
  /** A confidential backend holding a client_credentials token for Photos: the usual subject. */
  let backend: Creds;
  /** The print shop: listed in Print's token_exchange_clients. */
  let printer: Creds;
  /** A client Print never listed. */
  let stranger: Creds;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    world = await delegatedFixture(app);
    backend = await app.client({ name: 'backend', scopes: ['photos:read', 'photos:write'] });
    printer = await app.client({ name: 'printer', scopes: ['photos:read', 'photos:write'] });
    stranger = await app.client({ name: 'stranger', scopes: ['photos:read', 'photos:write'] });
    await app.resource({ identifier: PRINT, name: 'Print', scopes: [{ name: 'photos:read' }, { name: 'photos:write' }], access_token_ttl: 3600, token_exchange_clients: [printer.client_id] });
    admin = await app.adminToken();
  });
  afterAll(() => app.close());

  const subjectToken = async (scope = 'photos:read') => {
    const res = await app.token({ grant_type: 'client_credentials', resource: PHOTOS, scope }, { basic: basic(backend) });
    return (await res.json()).access_token as string;
  };
  const exchange = (caller: Creds, params: Record<string, string>, headers?: Record<string, string>) =>
    app.token({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, resource: PRINT, ...params }, { basic: basic(caller), headers });
  /** alice signs in to the browser app, which gets a Photos token for her. */
  const personsToken = async (person = new Person(app.url)) => {
    const { code, verifier } = await obtainCode(person, world.spa.client_id, { extra: { resource: PHOTOS } });
    const body = await (await redeem(app, world.spa.client_id, code, verifier, { resource: PHOTOS })).json();
    return body as { access_token: string; refresh_token: string };
  };
  const revoke = (grantId: string) => app.request(`/admin/grants/${grantId}`, { method: 'DELETE', token: admin, json: { reason: 'test' } });

  it('is listed in grant_types_supported (RFC 8414 §2)', async () => {
    const md = await (await app.request('/.well-known/oauth-authorization-server')).json();
    expect(md.grant_types_supported).toContain(GRANT_TYPE);
  });

  it('issues an access token for the named resource, acting for the subject (act, §4.1), with issued_token_type (§2.2.1)', async () => {
    const subject = await subjectToken('photos:read photos:write');
    const res = await exchange(printer, { subject_token: subject, scope: 'photos:read' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toEqual({ access_token: expect.any(String), issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: expect.any(Number), scope: 'photos:read' });
    expect(body.refresh_token).toBeUndefined();

    const issued = claimsOf(body.access_token);
    const original = claimsOf(subject);
    expect(issued).toMatchObject({ aud: PRINT, sub: backend.client_id, client_id: printer.client_id, scope: 'photos:read', act: { sub: printer.client_id } });
    // A derived grant of its own, tied to the original.
    expect(issued.grant_id).not.toBe(original.grant_id);
    expect(await grantRow(app, issued.grant_id)).toMatchObject({ kind: 'token_exchange', client_id: printer.client_id, parent_grant_id: original.grant_id });
    const view = await (await app.request(`/admin/grants/${issued.grant_id}`, { token: admin })).json();
    expect(view).toMatchObject({ kind: 'token_exchange', parent_grant_id: original.grant_id, status: 'active' });

    // Introspection says who acts (RFC 8693 §4.1 in RFC 7662's answer).
    expect(await introspect(app, world.rs, body.access_token)).toMatchObject({ active: true, sub: backend.client_id, client_id: printer.client_id, aud: PRINT, act: { sub: printer.client_id } });
  });

  it('keeps a person as the subject of a delegated token', async () => {
    const alice = new Person(app.url);
    const tokens = await personsToken(alice);
    const res = await exchange(printer, { subject_token: tokens.access_token });
    expect(res.status).toBe(200);
    const issued = claimsOf((await res.json()).access_token);
    expect(issued).toMatchObject({ sub: world.alice.id, client_id: printer.client_id, act: { sub: printer.client_id }, scope: 'photos:read' });
    expect(await grantRow(app, issued.grant_id)).toMatchObject({ user_id: world.alice.id, parent_grant_id: claimsOf(tokens.access_token).grant_id });
    // alice sees who acts for her among her connected apps, and can revoke it there.
    const page = await (await alice.get('/account')).text();
    expect(page).toContain('<strong>printer</strong>');
    expect(page).toContain('Print');
  });

  it('is answered alike on the token endpoint’s lean path and through koa (one body in one piece, then chunked)', async () => {
    const body = () => subjectToken().then((s) => new URLSearchParams({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: s, resource: PRINT }).toString());
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${printer.client_id}:${printer.client_secret}`).toString('base64')}` };
    const lean = await rawRequest(app.url, '/oauth/token', { method: 'POST', headers, body: await body() });
    const chunked = await body();
    const koa = await rawRequest(app.url, '/oauth/token', { method: 'POST', headers, body: [chunked.slice(0, 5), chunked.slice(5)] });
    for (const res of [lean, koa]) {
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    // expires_in counts down to the subject token's exp: it may differ by the second between the two.
    const { access_token: _l, expires_in: leanTtl, ...leanRest } = lean.json();
    const { access_token: _k, expires_in: koaTtl, ...koaRest } = koa.json();
    expect(koaRest).toEqual(leanRest);
    expect(leanRest.issued_token_type).toBe(ACCESS_TOKEN);
    for (const ttl of [leanTtl, koaTtl]) expect(ttl).toBeGreaterThan(0);
  });

  it('accepts the target as audience (§2.1) as well as resource', async () => {
    const res = await app.token({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: await subjectToken(), audience: PRINT }, { basic: basic(printer) });
    expect(res.status).toBe(200);
    expect(claimsOf((await res.json()).access_token).aud).toBe(PRINT);
  });

  it('never outlives the subject token', async () => {
    // Photos' tokens live the server default (3600 s unless set); Print's 3600: make the subject's shorter.
    const shortLived = await app.resource({ identifier: 'https://short.example.com', scopes: [{ name: 'photos:read' }], access_token_ttl: 60 });
    const holder = await app.client({ scopes: ['photos:read'] });
    const subject = (await (await app.token({ grant_type: 'client_credentials', resource: shortLived.identifier }, { basic: basic(holder) })).json()).access_token;
    const res = await exchange(printer, { subject_token: subject });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.expires_in).toBeLessThanOrEqual(60);
    expect(claimsOf(body.access_token).exp).toBeLessThanOrEqual(claimsOf(subject).exp);
  });

  describe('revoking the original grant revokes everything derived from it', () => {
    it('through introspection, the status list and the revocation feed, down a chain of exchanges', async () => {
      // Photos → Print (printer), then Print → Photos (backend may exchange into Photos).
      const photos = await app.deps.db('resources').where({ identifier: PHOTOS }).first('id');
      expect((await app.request(`/admin/resources/${photos.id}`, { method: 'PATCH', token: admin, json: { token_exchange_clients: [backend.client_id] } })).status).toBe(200);
      const subject = await subjectToken();
      const first = (await (await exchange(printer, { subject_token: subject })).json()).access_token;
      const secondRes = await exchange(backend, { subject_token: first, resource: PHOTOS });
      expect(secondRes.status).toBe(200);
      const second = (await secondRes.json()).access_token;
      // §4.1: the current actor outermost, the earlier one nested.
      expect(claimsOf(second).act).toEqual({ sub: backend.client_id, act: { sub: printer.client_id } });

      const derived = [first, second].map(claimsOf);
      for (const token of [first, second]) expect((await introspect(app, world.rs, token)).active).toBe(true);
      const before = await (await app.request('/admin/revocations', { token: admin })).json();

      expect((await revoke(claimsOf(subject).grant_id)).status).toBe(200);

      for (const token of [subject, first, second]) expect(await introspect(app, world.rs, token)).toEqual({ active: false });
      for (const c of derived) expect(await statusBit(app, c.status.status_list.idx)).toBe(1);
      const feed = await (await app.request(`/admin/revocations?since=${before.next_since}`, { token: admin })).json();
      // (The backend's standing grant was the subject of earlier tests' exchanges too: those go with it.)
      const inFeed = feed.items.map((i: { grant_id: string }) => i.grant_id);
      expect(inFeed).toEqual(expect.arrayContaining([claimsOf(subject).grant_id, ...derived.map((c) => c.grant_id)]));
      expect(await countRows(app, 'grants', { parent_grant_id: claimsOf(subject).grant_id, revoked_at: null })).toBe(0);
      // And the revoked token cannot be exchanged again.
      expect((await exchange(printer, { subject_token: subject })).status).toBe(400);
      await app.request(`/admin/resources/${photos.id}`, { method: 'PATCH', token: admin, json: { token_exchange_clients: [] } });
    });

    it('revoking a derived grant leaves its parent alone', async () => {
      const subject = await subjectToken();
      const issued = (await (await exchange(printer, { subject_token: subject })).json()).access_token;
      await revoke(claimsOf(issued).grant_id);
      expect((await introspect(app, world.rs, issued)).active).toBe(false);
      expect((await introspect(app, world.rs, subject)).active).toBe(true);
    });

    it('regression: an exchange racing the revocation of its subject grant never leaves a live derived token', async () => {
      for (let round = 0; round < 3; round++) {
        const subject = await subjectToken();
        const { grant_id } = claimsOf(subject);
        const [answers] = await Promise.all([Promise.all(Array.from({ length: 4 }, () => exchange(printer, { subject_token: subject }))), revoke(grant_id)]);
        for (const res of answers) {
          if (res.status !== 200) continue;
          expect((await introspect(app, world.rs, (await res.json()).access_token)).active).toBe(false);
        }
        expect(await countRows(app, 'grants', { parent_grant_id: grant_id, revoked_at: null })).toBe(0);
      }
    });
  });

  describe('policy: the target resource says which clients may exchange into it', () => {
    it('refuses a client the resource does not list with invalid_target (§2.2.2), storing nothing', async () => {
      const subject = await subjectToken();
      const grants = await countRows(app, 'grants');
      const res = await exchange(stranger, { subject_token: subject });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_target', error_description: expect.any(String) });
      expect(await countRows(app, 'grants')).toBe(grants);
    });

    it('lets nobody exchange into a resource by default', async () => {
      const created = await app.request('/admin/resources', { method: 'POST', token: admin, json: { identifier: 'https://nobody.example.com', name: 'Nobody', scopes: [{ name: 'photos:read' }] } });
      expect((await created.json()).token_exchange_clients).toEqual([]);
      const res = await exchange(printer, { subject_token: await subjectToken(), resource: 'https://nobody.example.com' });
      expect((await res.json()).error).toBe('invalid_target');
    });

    it('never exchanges into the admin API', async () => {
      const res = await exchange(printer, { subject_token: await subjectToken(), resource: `${app.issuer}/admin` });
      expect((await res.json()).error).toBe('invalid_target');
    });

    it('refuses a client with no scope on the target with invalid_target (RFC 8693 §2.2.2), not invalid_scope', async () => {
      await app.request('/admin/resources', { method: 'POST', token: admin, json: { identifier: 'https://noscope.example.com', name: 'No scope', scopes: [{ name: 'noscope:read' }], token_exchange_clients: [printer.client_id] } });
      const grants = await countRows(app, 'grants');
      const res = await exchange(printer, { subject_token: await subjectToken(), resource: 'https://noscope.example.com' });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_target');
      expect(await countRows(app, 'grants')).toBe(grants);
    });

    it('refuses an unknown, malformed or second target with invalid_target, and none at all with invalid_request', async () => {
      const subject = await subjectToken();
      expect((await (await exchange(printer, { subject_token: subject, resource: 'https://unknown.example.com' })).json()).error).toBe('invalid_target');
      expect((await (await exchange(printer, { subject_token: subject, resource: 'not a uri' })).json()).error).toBe('invalid_target');
      const two = await app.token({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: subject, resource: PRINT, audience: PHOTOS }, { basic: basic(printer) });
      expect((await two.json()).error).toBe('invalid_target');
      const none = await app.token({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: subject }, { basic: basic(printer) });
      expect((await none.json()).error).toBe('invalid_request');
    });

    it('is for confidential clients only: a public client gets unauthorized_client', async () => {
      const subject = await subjectToken();
      const res = await app.token({ grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: subject, resource: PRINT, client_id: world.spa.client_id });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('unauthorized_client');
    });

    it('refuses wrong client credentials with invalid_client', async () => {
      const res = await exchange({ client_id: printer.client_id, client_secret: 'wrong' }, { subject_token: await subjectToken() });
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_client');
    });
  });

  describe('scope: at most the subject token’s', () => {
    it('refuses a scope the subject token does not carry with invalid_scope', async () => {
      const subject = await subjectToken('photos:read');
      const grants = await countRows(app, 'grants');
      const res = await exchange(printer, { subject_token: subject, scope: 'photos:read photos:write' });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_scope');
      expect(await countRows(app, 'grants')).toBe(grants);
    });

    it('issues every scope of the subject token the target offers when none is asked', async () => {
      const res = await exchange(printer, { subject_token: await subjectToken('photos:read photos:write') });
      expect((await res.json()).scope).toBe('photos:read photos:write');
    });

    it('refuses a scope the exchanging client may not have', async () => {
      const narrow = await app.client({ scopes: ['photos:read'] });
      const print = await app.deps.db('resources').where({ identifier: PRINT }).first('id');
      await app.request(`/admin/resources/${print.id}`, { method: 'PATCH', token: admin, json: { token_exchange_clients: [printer.client_id, narrow.client_id] } });
      const res = await exchange(narrow, { subject_token: await subjectToken('photos:read photos:write'), scope: 'photos:write' });
      expect((await res.json()).error).toBe('invalid_scope');
      const ok = await exchange(narrow, { subject_token: await subjectToken('photos:read photos:write') });
      expect((await ok.json()).scope).toBe('photos:read');
      await app.request(`/admin/resources/${print.id}`, { method: 'PATCH', token: admin, json: { token_exchange_clients: [printer.client_id] } });
    });
  });

  describe('request parameters (§2.1), refused with invalid_request (§2.2.2)', () => {
    it.each([
      ['without subject_token', { subject_token: undefined }],
      ['without subject_token_type', { subject_token_type: undefined }],
      ['with a subject_token_type other than access_token', { subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }],
      ['with an id_token subject_token_type', { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }],
      ['with an actor_token (not supported: the client is the actor)', { actor_token: 'x', actor_token_type: ACCESS_TOKEN }],
      ['with actor_token_type alone', { actor_token_type: ACCESS_TOKEN }],
      ['asking for another requested_token_type', { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }],
    ])('%s', async (_name, override: Record<string, string | undefined>) => {
      const params: Record<string, string> = { grant_type: GRANT_TYPE, subject_token_type: ACCESS_TOKEN, subject_token: await subjectToken(), resource: PRINT };
      for (const [k, v] of Object.entries(override)) if (v === undefined) delete params[k];
      else params[k] = v;
      const grants = await countRows(app, 'grants');
      const res = await app.token(params, { basic: basic(printer) });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      expect(await countRows(app, 'grants')).toBe(grants);
    });

    it('accepts requested_token_type access_token', async () => {
      const res = await exchange(printer, { subject_token: await subjectToken(), requested_token_type: ACCESS_TOKEN });
      expect(res.status).toBe(200);
    });

    it('refuses a refresh token given as the subject token', async () => {
      const tokens = await personsToken();
      const res = await exchange(printer, { subject_token: tokens.refresh_token });
      expect((await res.json()).error).toBe('invalid_request');
    });

    it('refuses a subject token whose client was disabled since', async () => {
      const holder = await app.client({ scopes: ['photos:read'] });
      const subject = (await (await app.token({ grant_type: 'client_credentials', resource: PHOTOS }, { basic: basic(holder) })).json()).access_token;
      await app.request(`/admin/clients/${holder.client_id}`, { method: 'PATCH', token: admin, json: { disabled: true } });
      expect((await (await exchange(printer, { subject_token: subject })).json()).error).toBe('invalid_request');
    });
  });

  describe('the setting: token_exchange_clients on a resource', () => {
    it.each([
      ['not a list', 'printer'],
      ['a list of non-strings', [42]],
      ['an empty client id', ['']],
      ['a client id with control characters', ['a\u0000b']],
      ['more than 200 entries', Array.from({ length: 201 }, (_, i) => `c${i}`)],
    ])('the admin API refuses %s with 400', async (_name, value) => {
      const res = await app.request('/admin/resources', { method: 'POST', token: admin, json: { identifier: 'https://bad.example.com', name: 'Bad', token_exchange_clients: value } });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_request');
      expect(await countRows(app, 'resources', { identifier: 'https://bad.example.com' })).toBe(0);
    });

    it('the CLI sets it (resources create --token-exchange-client) and clears it (update --no-token-exchange-clients)', async () => {
      await inWorkspace('exchange', async ({ cwd, databaseUrl }) => {
        const cli = (args: string[]) => runCliProcess(args, { cwd, env: { DATABASE_URL: databaseUrl } });
        const created = await cli(['resources', 'create', '--identifier', PRINT, '--name', 'Print', '--scope', 'photos:read', '--token-exchange-client', 'printer', '--token-exchange-client', 'backend', '--json']);
        expect(created.stderr).toBe('');
        const resource = JSON.parse(created.stdout);
        expect(resource.token_exchange_clients).toEqual(['printer', 'backend']);
        const replaced = await cli(['resources', 'update', resource.id, '--token-exchange-client', 'printer', '--json']);
        expect(JSON.parse(replaced.stdout).token_exchange_clients).toEqual(['printer']);
        const cleared = await cli(['resources', 'update', resource.id, '--no-token-exchange-clients', '--json']);
        expect(JSON.parse(cleared.stdout).token_exchange_clients).toEqual([]);
      });
    });
  });
});

import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('admin API (bearer token with scope admin)', () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await startTestApp();
    token = await app.adminToken();
  });
  afterAll(() => app.close());

  describe('authentication (RFC 6750 §3)', () => {
    it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
      const res = await app.request('/admin/clients');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="grantor-admin"');
    });

    it('answers 401 invalid_token for a garbage token', async () => {
      const res = await app.request('/admin/clients', { token: 'abc.def.ghi' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await res.json()).error).toBe('invalid_token');
    });

    it('answers 403 insufficient_scope for a valid token without admin', async () => {
      await app.resource({ identifier: 'https://scoped.example.com', scopes: [{ name: 'read' }] });
      const c = await app.client({ scopes: ['read'] });
      const { access_token } = await (await app.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] })).json();
      const res = await app.request('/admin/clients', { token: access_token });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="grantor-admin", error="insufficient_scope", scope="admin"');
      expect((await res.json()).error).toBe('insufficient_scope');
    });
  });

  describe('resources', () => {
    it('creates, reads, lists, updates and deletes a resource', async () => {
      const created = await app.request('/admin/resources', {
        method: 'POST',
        token,
        json: { identifier: 'https://photos.example.com', name: 'Photos', scopes: [{ name: 'photos:read', description: 'See your photos' }], access_token_ttl: 300 },
      });
      expect(created.status).toBe(201);
      const resource = await created.json();
      expect(resource).toEqual({
        id: expect.any(String),
        identifier: 'https://photos.example.com',
        name: 'Photos',
        scopes: [{ name: 'photos:read', description: 'See your photos' }],
        access_token_ttl: 300,
        dpop_bound_access_tokens: false,
        dynamic_client_scopes: [],
        // RFC 8693: nobody may exchange tokens for a resource until an admin says who.
        token_exchange_clients: [],
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
      });

      expect(await (await app.request(`/admin/resources/${resource.id}`, { token })).json()).toEqual(resource);

      const patched = await app.request(`/admin/resources/${resource.id}`, { method: 'PATCH', token, json: { name: 'Photo API', access_token_ttl: null } });
      expect(patched.status).toBe(200);
      expect(await patched.json()).toMatchObject({ name: 'Photo API', access_token_ttl: null, identifier: 'https://photos.example.com' });

      const list = await (await app.request('/admin/resources', { token })).json();
      expect(list.items.map((r: { id: string }) => r.id)).toContain(resource.id);

      expect((await app.request(`/admin/resources/${resource.id}`, { method: 'DELETE', token })).status).toBe(204);
      const gone = await app.request(`/admin/resources/${resource.id}`, { token });
      expect(gone.status).toBe(404);
      expect((await gone.json()).error).toBe('not_found');
    });

    it('refuses a second resource with the same identifier with 409', async () => {
      const body = { identifier: 'https://dup.example.com', name: 'Dup' };
      expect((await app.request('/admin/resources', { method: 'POST', token, json: body })).status).toBe(201);
      const again = await app.request('/admin/resources', { method: 'POST', token, json: body });
      expect(again.status).toBe(409);
    });

    it('names the field in validation errors', async () => {
      const res = await app.request('/admin/resources', { method: 'POST', token, json: { identifier: 'not-a-uri', name: 'X' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/^identifier: /) });
    });

    it('makes a resource usable as a token audience with its own lifetime', async () => {
      const made = await (await app.request('/admin/resources', { method: 'POST', token, json: { identifier: 'https://ttl.example.com', name: 'TTL', scopes: [{ name: 'ttl:x' }], access_token_ttl: 90 } })).json();
      const c = await app.client({ scopes: ['ttl:x'] });
      const res = await app.token({ grant_type: 'client_credentials', resource: made.identifier }, { basic: [c.client_id, c.client_secret] });
      expect(res.status).toBe(200);
      expect((await res.json()).expires_in).toBe(90);
    });
  });

  describe('clients', () => {
    it('creates a confidential client and returns the secret once, storing only a hash', async () => {
      const res = await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Reporter', scopes: ['admin'] } });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const client = await res.json();
      expect(client).toMatchObject({ name: 'Reporter', type: 'confidential', grant_types: ['client_credentials'], scopes: ['admin'], disabled: false });
      expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const read = await (await app.request(`/admin/clients/${client.client_id}`, { token })).json();
      expect(read.client_secret).toBeUndefined();
      const row = await app.deps.db('clients').where({ client_id: client.client_id }).first();
      expect(row.secret_hash).not.toContain(client.client_secret);
      expect(JSON.stringify(row)).not.toContain(client.client_secret);
    });

    it('creates a public client without a secret and refuses client_credentials for it', async () => {
      const pub = await (await app.request('/admin/clients', { method: 'POST', token, json: { name: 'SPA', type: 'public', redirect_uris: ['https://spa.example.com/cb'] } })).json();
      expect(pub.client_secret).toBeUndefined();
      expect(pub.grant_types).toEqual(['authorization_code', 'refresh_token']);
      const bad = await app.request('/admin/clients', { method: 'POST', token, json: { name: 'SPA', type: 'public', grant_types: ['client_credentials'] } });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error_description).toMatch(/^grant_types: /);
    });

    it('rotates a secret: the old one stops working, the new one works', async () => {
      const client = await (await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Rotator', scopes: ['admin'] } })).json();
      const rotated = await app.request(`/admin/clients/${client.client_id}/secret`, { method: 'POST', token });
      expect(rotated.status).toBe(200);
      const { client_secret } = await rotated.json();
      expect(client_secret).not.toBe(client.client_secret);
      const old = await app.token({ grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] });
      expect(old.status).toBe(401);
      const fresh = await app.token({ grant_type: 'client_credentials' }, { basic: [client.client_id, client_secret] });
      expect(fresh.status).toBe(200);
    });

    it('disables a client through PATCH so it can no longer authenticate', async () => {
      const client = await (await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Soon off', scopes: ['admin'] } })).json();
      const patched = await app.request(`/admin/clients/${client.client_id}`, { method: 'PATCH', token, json: { disabled: true, name: 'Off' } });
      expect(await patched.json()).toMatchObject({ disabled: true, name: 'Off' });
      const res = await app.token({ grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] });
      expect(res.status).toBe(401);
    });

    it('deletes a client', async () => {
      const client = await (await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Gone' } })).json();
      expect((await app.request(`/admin/clients/${client.client_id}`, { method: 'DELETE', token })).status).toBe(204);
      expect((await app.request(`/admin/clients/${client.client_id}`, { method: 'DELETE', token })).status).toBe(404);
    });

    it('paginates with limit and cursor', async () => {
      for (let i = 0; i < 5; i++) await app.client({ name: `page ${i}` });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page = await (await app.request(`/admin/clients${query}`, { token })).json();
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((c: { client_id: string }) => c.client_id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 50);
      const total = (await app.deps.db('clients').count({ n: '*' }))[0].n;
      expect(seen).toHaveLength(Number(total));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('answers 4xx, never 500, for identifiers the database cannot hold (NUL bytes, huge, bad UTF-8)', async () => {
      for (const id of ['%00', 'a%00b', 'x'.repeat(5000), '%C0%AF', '%ED%A0%80']) {
        for (const path of [`/admin/clients/${id}`, `/admin/resources/${id}`, `/admin/grants/${id}`]) {
          const res = await app.request(path, { token });
          expect({ path, status: res.status }).toEqual({ path, status: expect.any(Number) });
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
        }
      }
    });

    it('issue #10 item 12: refuses a client scope no resource offers, on create and on update, naming it', async () => {
      const created = await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Wishful', scopes: ['admin', 'nowhere:read', 'nowhere:write'] } });
      expect(created.status).toBe(400);
      expect(await created.json()).toEqual({ error: 'invalid_request', error_description: 'scopes: no resource offers nowhere:read, nowhere:write' });

      const client = await (await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Later wishful', scopes: ['admin'] } })).json();
      const patched = await app.request(`/admin/clients/${client.client_id}`, { method: 'PATCH', token, json: { scopes: ['admin', 'nowhere:read'] } });
      expect(patched.status).toBe(400);
      expect(await patched.json()).toEqual({ error: 'invalid_request', error_description: 'scopes: no resource offers nowhere:read' });
      expect((await (await app.request(`/admin/clients/${client.client_id}`, { token })).json()).scopes).toEqual(['admin']);
      expect(await app.deps.db('clients').where({ name: 'Wishful' }).first()).toBeUndefined();
    });

    it('accepts the scopes of registered resources, admin, and the introspect permission', async () => {
      await app.request('/admin/resources', { method: 'POST', token, json: { identifier: 'https://offered.example.com', name: 'Offered', scopes: [{ name: 'offered:read' }] } });
      const res = await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Modest', scopes: ['offered:read', 'admin', 'introspect'] } });
      expect(res.status).toBe(201);
      expect((await res.json()).scopes).toEqual(['offered:read', 'admin', 'introspect']);
    });

    it.each([
      ['a NUL byte', 'bad\u0000name'],
      ['a line feed', 'two\nlines'],
      ['an escape', 'colour\u001b[31m'],
      ['DEL', 'del\u007f'],
      ['a C1 control', 'c1\u0085'],
    ])('issue #10 item 12: refuses %s in a client name with 400 naming the field, on SQLite and PostgreSQL alike', async (_what, name) => {
      const res = await app.request('/admin/clients', { method: 'POST', token, json: { name, scopes: ['admin'] } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/^name: /) });
      const client = await (await app.request('/admin/clients', { method: 'POST', token, json: { name: 'Clean', scopes: ['admin'] } })).json();
      const patched = await app.request(`/admin/clients/${client.client_id}`, { method: 'PATCH', token, json: { name } });
      expect(patched.status).toBe(400);
      expect((await patched.json()).error_description).toMatch(/^name: /);
    });

    it('issue #10 item 12: refuses control characters in resource names and scope descriptions, naming the field', async () => {
      const badName = await app.request('/admin/resources', { method: 'POST', token, json: { identifier: 'https://nul.example.com', name: 'nul\u0000' } });
      expect(badName.status).toBe(400);
      expect((await badName.json()).error_description).toMatch(/^name: /);
      const badDescription = await app.request('/admin/resources', {
        method: 'POST',
        token,
        json: { identifier: 'https://nul.example.com', name: 'Nul', scopes: [{ name: 'x', description: 'see\u0000this' }] },
      });
      expect(badDescription.status).toBe(400);
      expect((await badDescription.json()).error_description).toMatch(/^scopes\.0\.description: /);
      expect(await app.deps.db('resources').where({ identifier: 'https://nul.example.com' }).first()).toBeUndefined();
    });

    it('refuses a bad limit with invalid_request naming it', async () => {
      const res = await app.request('/admin/clients?limit=0', { token });
      expect(res.status).toBe(400);
      expect((await res.json()).error_description).toMatch(/^limit: /);
    });
  });
});

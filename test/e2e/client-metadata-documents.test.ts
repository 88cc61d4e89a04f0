/**
 * Client ID Metadata Documents (issue #11 items 1 and 3; draft-ietf-oauth-client-id-metadata-document-00):
 * an app whose client_id is an https URL is known by the document there, fetched defensively,
 * and gets only the scopes a resource opened to clients nobody vetted.
 */
import type http from 'node:http';
import { decodeJwt } from 'jose';
import { fixedClock } from '../../src/lib/clock.js';
import { Person } from '../helpers/browserless.js';
import { API, authorizeUrl, delegatedFixture, type Delegated, delegatedTokens, introspect, obtainCode, redeem, REDIRECT, refresh, signIn } from '../helpers/delegated.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { runCliProcess } from '../helpers/processes.js';
import { inWorkspace } from '../helpers/workspace.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

type Answer = { status?: number; headers?: Record<string, string>; body?: string; hang?: boolean };

describe('Client ID Metadata Documents', () => {
  let server: TestHttpsServer;
  const answers = new Map<string, (req: http.IncomingMessage) => Answer>();
  const hanging = new Set<http.ServerResponse>();
  let clientId: string;
  const doc = (over: Record<string, unknown> = {}, id = clientId) =>
    JSON.stringify({ client_id: id, client_name: 'Agent Smith', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', ...over });
  /** Serves `body` (a document) at `path` of the test https server; returns its URL. */
  const serve = (path: string, answer: Answer | ((url: string) => Answer)): string => {
    const url = `${server.origin}${path}`;
    answers.set(path, () => (typeof answer === 'function' ? answer(url) : answer));
    return url;
  };

  beforeAll(async () => {
    server = await startHttpsServer((req, res) => {
      const a = answers.get(new URL(req.url ?? '/', 'https://x').pathname)?.(req) ?? { status: 404, body: '' };
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      if (a.hang) {
        res.write(a.body ?? '');
        hanging.add(res);
        return;
      }
      res.end(a.body ?? '');
    });
    clientId = serve('/agent.json', (url) => ({ body: doc({}, url), headers: { 'cache-control': 'max-age=300' } }));
  });
  afterAll(async () => {
    for (const r of hanging) r.destroy();
    await server.close();
  });

  describe('with the test server on OUTBOUND_ALLOWED_HOSTS', () => {
    let app: TestApp;
    let fx: Delegated;
    const clock = fixedClock(1_900_000_000);
    beforeAll(async () => {
      app = await startTestApp({ clock, env: { OUTBOUND_ALLOWED_HOSTS: server.host, OUTBOUND_TIMEOUT: '1' } });
      fx = await delegatedFixture(app);
      const photos = (await app.request('/admin/resources?limit=200', { token: await app.adminToken() })).json();
      const id = (await photos).items.find((r: { identifier: string }) => r.identifier === API).id;
      const patched = await app.request(`/admin/resources/${id}`, { method: 'PATCH', token: await app.adminToken(), json: { dynamic_client_scopes: ['photos:read'] } });
      expect(patched.status).toBe(200);
    });
    afterAll(() => app.close());

    it('lets a browser app known only by its document read its token answers from its redirect origin, and no other origin (CORS, issue #11 item 5)', async () => {
      const origin = 'https://agent-spa.example.net';
      const spa = serve('/spa.json', (url) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: doc({ redirect_uris: [`${origin}/callback`] }, url) }));
      const tokenRequest = (from: string) =>
        fetch(`${app.url}/oauth/token`, {
          method: 'POST',
          // A public client's form POST without DPoP is a simple request: no preflight comes first.
          headers: { Origin: from, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: `${origin}/callback`, code_verifier: 'a'.repeat(43), client_id: spa }),
        });
      const own = await tokenRequest(origin);
      expect(own.status).toBe(400);
      expect((await own.json()).error).toBe('invalid_grant');
      expect(own.headers.get('access-control-allow-origin')).toBe(origin);
      expect(own.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await tokenRequest('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // A preflight names no client: it stays for the origins of registered clients only.
      const preflight = await fetch(`${app.url}/oauth/token`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('advertises client_id_metadata_document_supported in the metadata', async () => {
      const meta = await (await app.request('/.well-known/oauth-authorization-server')).json();
      expect(meta.client_id_metadata_document_supported).toBe(true);
    });

    it('runs the whole flow for an app known only by its URL: consent, code, tokens, refresh, introspection', async () => {
      const person = new Person(app.url);
      const tokens = await delegatedTokens(app, person, clientId);
      expect(tokens.scope).toBe('photos:read');
      const claims = decodeJwt(tokens.access_token);
      expect(claims.client_id).toBe(clientId);
      expect(claims.aud).toBe(API);
      expect(await introspect(app, fx.rs, tokens.access_token)).toMatchObject({ active: true, client_id: clientId, scope: 'photos:read' });
      const refreshed = await refresh(app, clientId, tokens.refresh_token);
      expect(refreshed.status).toBe(200);
    });

    it('records grants, codes and refresh tokens of a client_id URL longer than a registered client_id (up to 512 characters)', async () => {
      // The client_id columns held 64 characters; PostgreSQL refused a longer URL with a 500.
      const url = serve(`/${'a-long-path-segment/'.repeat(20)}agent.json`, (u) => ({ body: doc({}, u) }));
      expect(url.length).toBeGreaterThan(400);
      const tokens = await delegatedTokens(app, new Person(app.url), url);
      expect((await refresh(app, url, tokens.refresh_token)).status).toBe(200);
    });

    it('shows people that no admin registered the app, its URL and the host the answer goes to', async () => {
      const person = new Person(app.url);
      const login = await (await person.get(authorizeUrl(clientId, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }))).text();
      expect(login).toContain(`Agent Smith (${server.host})`);
      await signIn(person, 'alice');
      const page = await (await person.get(authorizeUrl(clientId, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }))).text();
      expect(page).toContain('Agent Smith');
      expect(page).toContain('was not registered by an administrator');
      expect(page).toContain(clientId);
      expect(page).toContain('<strong>app.example.com</strong>');
    });

    it('fetches the document once per cache lifetime, not once per request (Cache-Control max-age)', async () => {
      const url = serve('/counted.json', (u) => ({ body: doc({}, u), headers: { 'cache-control': 'max-age=120' } }));
      const person = new Person(app.url);
      for (let i = 0; i < 3; i++) {
        const { code, verifier } = await obtainCode(person, url);
        expect((await redeem(app, url, code, verifier)).status).toBe(200);
      }
      expect(server.hits.get('/counted.json')).toBe(1);
      clock.advance(121);
      const { code, verifier } = await obtainCode(person, url);
      expect((await redeem(app, url, code, verifier)).status).toBe(200);
      expect(server.hits.get('/counted.json')).toBe(2);
    });

    it('refuses a scope the resource did not open to unvetted apps (invalid_scope), though a registered app may have it', async () => {
      const person = new Person(app.url);
      await signIn(person, 'alice');
      const res = await person.get(authorizeUrl(clientId, { scope: 'photos:write', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
      const registered = await delegatedTokens(app, new Person(app.url), fx.spa.client_id, { scope: 'photos:write' });
      expect(registered.scope).toBe('photos:write');
    });

    it('lets the document narrow its scopes (scope), never widen them', async () => {
      const url = serve('/narrow.json', (u) => ({ body: doc({ scope: 'photos:write' }, u) }));
      const res = await new Person(app.url).get(authorizeUrl(url, { scope: 'photos:read', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
    });

    it('offers such an app no client_credentials grant and no secret', async () => {
      const cc = await app.token({ grant_type: 'client_credentials', client_id: clientId });
      expect(cc.status).toBe(400);
      expect((await cc.json()).error).toBe('unauthorized_client');
      const withSecret = await app.token({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'guess' });
      expect(withSecret.status).toBe(401);
      expect((await withSecret.json()).error).toBe('invalid_client');
    });

    it('lists the app on the connected-apps page and in the admin grants API, and revoking there kills its tokens', async () => {
      const person = new Person(app.url);
      const tokens = await delegatedTokens(app, person, clientId);
      const account = await (await person.get('/account')).text();
      expect(account).toContain(clientId);
      expect(account).toContain('not registered by an administrator');
      const grants = await (await app.request(`/admin/grants?client_id=${encodeURIComponent(clientId)}`, { token: await app.adminToken() })).json();
      expect(JSON.stringify(grants)).toContain(tokens.grant_id);
      const revoked = await app.request(`/admin/grants/${tokens.grant_id}`, { method: 'DELETE', token: await app.adminToken() });
      expect(revoked.status).toBeLessThan(300);
      expect(await introspect(app, fx.rs, tokens.access_token)).toEqual({ active: false });
    });

    it('takes a scope back from unvetted apps when the resource closes it: the next refresh ends the grant (issue #11 item 3)', async () => {
      const person = new Person(app.url);
      const tokens = await delegatedTokens(app, person, clientId);
      const token = await app.adminToken();
      const list = await (await app.request('/admin/resources?limit=200', { token })).json();
      const id = list.items.find((r: { identifier: string }) => r.identifier === API).id;
      expect((await app.request(`/admin/resources/${id}`, { method: 'PATCH', token, json: { dynamic_client_scopes: [] } })).status).toBe(200);
      try {
        const res = await refresh(app, clientId, tokens.refresh_token);
        expect(res.status).toBe(400);
        expect((await res.json()).error).toBe('invalid_grant');
        // …while the registered app keeps what it was given.
        const registered = await delegatedTokens(app, new Person(app.url), fx.spa.client_id);
        expect(registered.scope).toBe('photos:read');
      } finally {
        await app.request(`/admin/resources/${id}`, { method: 'PATCH', token, json: { dynamic_client_scopes: ['photos:read'] } });
      }
    });

    it('judges each resource on its own: a scope name opened on one API is not opened on another that did not open it', async () => {
      const token = await app.adminToken();
      const other = await (await app.request('/admin/resources', { method: 'POST', token, json: { identifier: 'https://albums.example.com', name: 'Albums', scopes: [{ name: 'photos:read' }] } })).json();
      try {
        const person = new Person(app.url);
        await signIn(person, 'alice');
        const res = await person.get(authorizeUrl(clientId, { resource: 'https://albums.example.com', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
        expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
        const opened = await person.get(authorizeUrl(clientId, { resource: API, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
        expect(await opened.text()).toContain('name="decision"');
      } finally {
        await app.request(`/admin/resources/${other.id}`, { method: 'DELETE', token });
      }
    });

    it('refuses dynamic_client_scopes the resource does not define', async () => {
      const res = await app.request('/admin/resources', { method: 'POST', token: await app.adminToken(), json: { identifier: 'https://other.example.com', name: 'Other', scopes: [{ name: 'a' }], dynamic_client_scopes: ['b'] } });
      expect(res.status).toBe(400);
      expect((await res.json()).error_description).toContain('dynamic_client_scopes');
    });

    it('blocks a registered client too: disabled, its grants revoked', async () => {
      const spa = await app.client({ name: 'Soon blocked', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read'] });
      const tokens = await delegatedTokens(app, new Person(app.url), spa.client_id);
      const res = await app.request('/admin/blocked-clients', { method: 'POST', token: await app.adminToken(), json: { client_id: spa.client_id } });
      expect(res.status).toBe(201);
      expect(await introspect(app, fx.rs, tokens.access_token)).toEqual({ active: false });
      expect((await refresh(app, spa.client_id, tokens.refresh_token)).status).toBe(401);
    });

    describe('hostile documents and URLs: an error page (400), never a redirect to the app, never a 500', () => {
      const tryAuthorize = async (url: string) => {
        const res = await new Person(app.url).get(authorizeUrl(url, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
        return { status: res.status, location: res.headers.get('location'), text: await res.text() };
      };
      const expectRefused = async (url: string) => {
        const r = await tryAuthorize(url);
        expect([url, r.status, r.location]).toEqual([url, 400, null]);
        const token = await app.token({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, client_id: url, code_verifier: 'v'.repeat(43) });
        expect([url, token.status, (await token.json()).error]).toEqual([url, 401, 'invalid_client']);
      };

      it('a document whose client_id is not its URL', async () => {
        await expectRefused(serve('/mismatch.json', { body: doc({}, 'https://elsewhere.example/app.json') }));
      });
      it('a redirect_uri the document does not list (exact match)', async () => {
        const r = await new Person(app.url).get(authorizeUrl(clientId, { redirect_uri: `${REDIRECT}/extra`, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
        expect(r.status).toBe(400);
        expect(r.headers.get('location')).toBeNull();
      });
      it('a document that is not JSON, not an object, or of another content type', async () => {
        await expectRefused(serve('/html.json', { body: '<html>hi</html>' }));
        await expectRefused(serve('/array.json', { body: '[]' }));
        await expectRefused(serve('/text.json', (u) => ({ body: doc({}, u), headers: { 'content-type': 'text/plain' } })));
      });
      it('a document larger than 5 KB', async () => {
        await expectRefused(serve('/big.json', (u) => ({ body: doc({ padding: 'x'.repeat(6000) }, u) })));
      });
      it('a redirect (not followed)', async () => {
        await expectRefused(serve('/moved.json', { status: 302, headers: { location: clientId } }));
      });
      it('a server that never finishes (OUTBOUND_TIMEOUT)', async () => {
        await expectRefused(serve('/slow.json', { body: '{"client_id":', hang: true }));
      });
      it('a document holding a client secret, or asking for a secret-based authentication method', async () => {
        await expectRefused(serve('/secret.json', (u) => ({ body: doc({ client_secret: 'shh' }, u) })));
        await expectRefused(serve('/basic.json', (u) => ({ body: doc({ token_endpoint_auth_method: 'client_secret_basic' }, u) })));
        await expectRefused(serve('/pkjwt.json', (u) => ({ body: doc({ token_endpoint_auth_method: 'private_key_jwt' }, u) })));
      });
      it('a document with a bad redirect URI or grant type', async () => {
        await expectRefused(serve('/js.json', (u) => ({ body: doc({ redirect_uris: ['javascript:alert(1)'] }, u) })));
        await expectRefused(serve('/cc.json', (u) => ({ body: doc({ grant_types: ['client_credentials'] }, u) })));
      });
      it('client_id URLs the draft forbids: http, fragment, credentials, dot segments, no path', async () => {
        for (const url of [
          `http://${server.host}/agent.json`,
          `${clientId}#frag`,
          `https://user:pw@${server.host}/agent.json`,
          `${server.origin}/a/../agent.json`,
          `${server.origin}/a/./agent.json`,
          `${server.origin}/a/%2e%2e/agent.json`,
          `https://${server.host}`,
          `https://LOCALHOST:${server.port}/agent.json`,
        ]) {
          await expectRefused(url);
        }
        expect(server.hits.get('/a/agent.json')).toBeUndefined();
      });
      it('a URL an admin blocked, with immediate effect', async () => {
        const url = serve('/blocked.json', (u) => ({ body: doc({}, u) }));
        expect((await tryAuthorize(url)).status).toBe(200); // known (not signed in: the login page)
        const blocked = await app.request('/admin/blocked-clients', { method: 'POST', token: await app.adminToken(), json: { client_id: url, reason: 'phishing' } });
        expect(blocked.status).toBe(201);
        await expectRefused(url);
        const listed = await (await app.request('/admin/blocked-clients', { token: await app.adminToken() })).json();
        expect(listed.items).toContainEqual(expect.objectContaining({ client_id: url, reason: 'phishing' }));
        expect((await app.request(`/admin/blocked-clients/${encodeURIComponent(url)}`, { method: 'DELETE', token: await app.adminToken() })).status).toBe(204);
        expect((await tryAuthorize(url)).status).toBe(200);
      });
    });
  });

  it('the CLI opens scopes to unvetted apps (resources create --dynamic-client-scope) and blocks and unblocks a URL (clients block)', async () => {
    await inWorkspace('cimd', async ({ cwd, databaseUrl }) => {
      const cli = (args: string[]) => runCliProcess(args, { cwd, env: { DATABASE_URL: databaseUrl } });
      const created = await cli(['resources', 'create', '--identifier', 'https://notes.example.com', '--name', 'Notes', '--scope', 'notes:read', '--scope', 'notes:write', '--dynamic-client-scope', 'notes:read', '--json']);
      expect(created.stderr).toBe('');
      const resource = JSON.parse(created.stdout);
      expect(resource.dynamic_client_scopes).toEqual(['notes:read']);
      const closed = await cli(['resources', 'update', resource.id, '--no-dynamic-client-scopes', '--json']);
      expect(JSON.parse(closed.stdout).dynamic_client_scopes).toEqual([]);
      const blocked = await cli(['clients', 'block', clientId, '--reason', 'phishing', '--json']);
      expect(blocked.code).toBe(0);
      expect(JSON.parse((await cli(['clients', 'blocked', '--json'])).stdout).items).toEqual([expect.objectContaining({ client_id: clientId, reason: 'phishing' })]);
      const app = await startTestApp({ env: { DATABASE_URL: databaseUrl, OUTBOUND_ALLOWED_HOSTS: server.host } });
      try {
        const res = await new Person(app.url).get(authorizeUrl(clientId, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
        expect(res.status).toBe(400);
      } finally {
        await app.close();
      }
      expect((await cli(['clients', 'unblock', clientId])).code).toBe(0);
      expect(JSON.parse((await cli(['clients', 'blocked', '--json'])).stdout).items).toEqual([]);
    });
  });

  it.each([
    ['loopback without OUTBOUND_ALLOWED_HOSTS: localhost resolves to a refused address', () => ({})],
    ['everything with CLIENT_METADATA_DOCUMENTS=off', () => ({ OUTBOUND_ALLOWED_HOSTS: server.host, CLIENT_METADATA_DOCUMENTS: 'off' })],
    ['URLs outside the listed domains with CLIENT_METADATA_DOCUMENTS=domain,…', () => ({ OUTBOUND_ALLOWED_HOSTS: server.host, CLIENT_METADATA_DOCUMENTS: 'apps.example.com' })],
  ])('refuses %s, and fetches nothing', async (_name, env) => {
    const app = await startTestApp({ env: env() });
    try {
      const before = server.hits.get('/agent.json') ?? 0;
      const res = await new Person(app.url).get(authorizeUrl(clientId, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
      expect(res.status).toBe(400);
      expect(server.hits.get('/agent.json') ?? 0).toBe(before);
    } finally {
      await app.close();
    }
  });

  it('is not advertised with CLIENT_METADATA_DOCUMENTS=off', async () => {
    const app = await startTestApp({ env: { CLIENT_METADATA_DOCUMENTS: 'off' } });
    try {
      const meta = await (await app.request('/.well-known/oauth-authorization-server')).json();
      expect(meta.client_id_metadata_document_supported).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

/**
 * End to end with real MCP software (issue #11 item 6): an MCP server built with the official
 * @modelcontextprotocol/sdk (Streamable HTTP) behind Grantor's resource-server module, serving
 * RFC 9728 metadata, and an MCP client from the same SDK whose OAuthClientProvider does nothing but
 * store what it is given. The SDK finds Grantor from the server's 401, gets a client_id (a Client ID
 * Metadata Document, or RFC 7591 dynamic registration), sends the person through login and consent
 * with PKCE S256 and `resource` (RFC 8707), calls a tool, refreshes when the server finds its token
 * expired, and is refused by the MCP server within the status list's ttl + 1 s after the person
 * revokes it on the connected-apps page. Everything listens on loopback.
 *
 * The Client ID Metadata Document variant runs in a real browser (Debian's chromium driven by
 * playwright-core; the suite fails without it, it is never skipped); the others go through the
 * pages over plain HTTP.
 */
import http from 'node:http';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { createUser } from '../../src/registry/users.js';
import { formFields, Person as Browserless } from '../helpers/browserless.js';
import { launchChromium } from '../helpers/chromium.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { connectMcpClient, MemoryOAuthProvider, whoami, type Person } from '../helpers/mcp-client.js';
import { startMcpServer, type TestMcpServer } from '../helpers/mcp-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const STATUS_LIST_TTL = 1;
const ACCESS_TOKEN_TTL = 60;
const PASSWORD = 'correct horse battery';
const SCOPE = 'notes';

describe('an MCP server and client (official SDK, Streamable HTTP) in front of Grantor', () => {
  let app: TestApp;
  let mcp: TestMcpServer;
  let documents: TestHttpsServer;
  const served = new Map<string, string>();
  let callback: { url: string; close(): Promise<void> };
  let browser: Browser;
  let users: Record<'alice' | 'bob' | 'carol', { id: string }>;
  /**
   * Grantor's and the MCP servers' clock: real time, plus what `pass()` added. Letting time pass
   * for both at once is how an access token expires without the test waiting for it.
   */
  let ahead = 0;
  const clock = { now: () => Math.floor(Date.now() / 1000) + ahead };
  const pass = (seconds: number) => {
    ahead += seconds;
  };

  /** The client metadata the agent describes itself with (its document, or its registration request). */
  const clientMetadata = (over: Partial<OAuthClientMetadata> = {}): OAuthClientMetadata => ({
    client_name: 'Notes Agent',
    redirect_uris: [callback.url],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...over,
  });
  /** Publishes a Client ID Metadata Document at `path` of the loopback https server; answers its URL. */
  const publish = (path: string, metadata: OAuthClientMetadata): string => {
    const url = `${documents.origin}${path}`;
    served.set(path, JSON.stringify({ client_id: url, ...metadata }));
    return url;
  };

  beforeAll(async () => {
    browser = await launchChromium();
    documents = await startHttpsServer((req, res) => {
      const body = served.get(new URL(req.url ?? '/', 'https://x').pathname);
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body ?? '');
    });
    callback = await startCallbackServer();
    app = await startTestApp({ clock, env: { STATUS_LIST_TTL: String(STATUS_LIST_TTL), OUTBOUND_ALLOWED_HOSTS: documents.host, REGISTRATION: 'open' } });
    mcp = await startRegisteredMcpServer();
    users = {
      alice: await createUser(app.deps, { username: 'alice', password: PASSWORD }),
      bob: await createUser(app.deps, { username: 'bob', password: PASSWORD }),
      carol: await createUser(app.deps, { username: 'carol', password: PASSWORD }),
    };
  }, 30_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    for (const server of started) await server.close().catch(() => undefined);
    await callback?.close().catch(() => undefined);
    await documents?.close().catch(() => undefined);
    await app?.close();
  });

  /**
   * An MCP server whose identifier Grantor knows as a resource offering SCOPE, opened to clients
   * nobody vetted (dynamic_client_scopes). One per flow, as the agents of different people would meet different servers.
   */
  const startRegisteredMcpServer = async (): Promise<TestMcpServer> => {
    const server = await startMcpServer({ issuer: app.issuer, scope: SCOPE, now: clock.now });
    started.push(server);
    await app.resource({ identifier: server.url, name: 'Notes', scopes: [{ name: SCOPE, description: 'Read your notes' }], dynamic_client_scopes: [SCOPE], access_token_ttl: ACCESS_TOKEN_TTL });
    return server;
  };
  const started: TestMcpServer[] = [];

  /** A raw MCP request with `token`: the status code and WWW-Authenticate of the answer. */
  const rawCall = async (token?: string, server = mcp) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    await res.body?.cancel();
    return { status: res.status, challenge: res.headers.get('www-authenticate') };
  };

  /** Polls the MCP server with `token` until it is refused or `deadline` (epoch ms) passes; answers the last status. */
  const statusUntilRefused = async (server: TestMcpServer, token: string, deadline: number): Promise<number> => {
    let status = (await rawCall(token, server)).status;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await rawCall(token, server)).status;
    }
    return status;
  };

  /**
   * A tool call with the agent's first token, then the same call once that token expired: the MCP
   * server's 401 makes the SDK refresh (a new access and refresh token, for the same person, client
   * and MCP server) and call again. Answers the refreshed tokens.
   */
  const callThenRefresh = async (client: Client, provider: MemoryOAuthProvider, server: TestMcpServer, sub: string, clientId: string) => {
    const first = provider.tokens()!;
    expect(decodeJwt(first.access_token)).toMatchObject({ iss: app.issuer, aud: server.url, client_id: clientId, sub, scope: SCOPE });
    expect(await whoami(client)).toEqual({ sub, client_id: clientId, scope: SCOPE });

    pass(ACCESS_TOKEN_TTL + 10);
    expect(await whoami(client)).toEqual({ sub, client_id: clientId, scope: SCOPE });
    expect(provider.savedTokens).toHaveLength(2);
    const second = provider.tokens()!;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token)).toMatchObject({ aud: server.url, client_id: clientId, sub });
    expect((await rawCall(second.access_token, server)).status).toBe(200);
    return second;
  };

  /** What the person saw on Grantor's pages during a scripted authorization. */
  interface Seen {
    login?: string;
    consent?: string;
  }

  /** A person going through Grantor's login and consent pages over plain HTTP, clicking Allow. */
  const scriptedPerson = (username: string, seen: Seen, person: Browserless): Person => async (authorizationUrl) => {
    const at = (url: string) => new URL(url, authorizationUrl).href;
    let res = await person.get(authorizationUrl.href);
    if (res.status !== 200) return undefined; // an error page: the person is never sent back
    let page = await res.text();
    if (page.includes('action="/login"')) {
      seen.login = page;
      res = await person.post(at('/login'), { ...formFields(page), username, password: PASSWORD });
      expect(res.status).toBe(303);
      page = await (await person.get(at(res.headers.get('location')!))).text();
    }
    seen.consent = page;
    const fields = formFields(page);
    delete fields.decision;
    res = await person.post(at('/oauth/authorize'), { ...fields, decision: 'allow' });
    expect(res.status).toBe(303);
    return new URL(res.headers.get('location')!);
  };

  it('answers a call without a token with 401 and where its metadata is (RFC 9728 §5.1), and serves that metadata naming Grantor', async () => {
    const res = await rawCall();
    expect(res.status).toBe(401);
    expect(res.challenge).toBe(`Bearer realm="api", resource_metadata="${mcp.metadataUrl}", scope="${SCOPE}"`);
    expect(mcp.metadataUrl).toBe(mcp.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'));
    const metadata = await (await fetch(mcp.metadataUrl)).json();
    expect(metadata).toMatchObject({ resource: mcp.url, authorization_servers: [app.issuer], scopes_supported: [SCOPE] });
  });

  it('with a Client ID Metadata Document, in Chromium: discovery from the 401, consent, a tool call, a refresh, and refusal within ttl + 1 s of a revocation on /account', async () => {
    const notes = await startRegisteredMcpServer();
    const clientId = publish('/notes-agent.json', clientMetadata());
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    let consent = '';
    const inChromium: Person = async (authorizationUrl) => {
      await page.goto(authorizationUrl.href);
      await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
      await page.fill('input[name=username]', 'alice');
      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL(`${app.url}/oauth/authorize?**`), page.click('button[type=submit]')]);
      consent = await page.locator('main').innerText();
      await Promise.all([page.waitForURL(`${callback.url}?**`), page.getByRole('button', { name: 'Allow' }).click()]);
      return new URL(page.url());
    };
    const provider = new MemoryOAuthProvider(callback.url, clientMetadata(), { clientMetadataUrl: clientId, person: inChromium });
    try {
      const client = await connectMcpClient(notes.url, provider);

      // The SDK used the document's URL as its client_id (Grantor says client_id_metadata_document_supported),
      // with PKCE S256, the scope from the challenge, and the MCP server's resource identifier.
      expect(provider.clientInformation()?.client_id).toBe(clientId);
      expect(documents.hits.get('/notes-agent.json')).toBeGreaterThanOrEqual(1);
      const asked = provider.authorizationUrls[0];
      expect(asked.origin + asked.pathname).toBe(`${app.url}/oauth/authorize`);
      expect(Object.fromEntries(asked.searchParams)).toMatchObject({ response_type: 'code', client_id: clientId, code_challenge_method: 'S256', scope: SCOPE, resource: notes.url, redirect_uri: callback.url });
      // The person saw who asks: not vetted by an admin, its URL, where the answer goes.
      expect(consent).toContain('This app was not registered by an administrator');
      expect(consent).toContain(clientId);
      expect(consent).toContain(new URL(callback.url).host);
      // RFC 9207: the authorization response names the issuer; state came back unchanged.
      expect(provider.callback?.searchParams.get('iss')).toBe(app.issuer);
      expect(provider.callback?.searchParams.get('state')).toBe(provider.lastState);
      // RFC 8707: the token is for the MCP server, and the tool sees who it speaks for; then the
      // access token expires, and the SDK refreshes and calls again.
      const second = await callThenRefresh(client, provider, notes, users.alice.id, clientId);

      // The person revokes the agent on the connected-apps page.
      await page.goto(`${app.url}/account`);
      const row = page.locator('tbody tr', { hasText: clientId }); // an unvetted app is listed by its URL
      await expect(row.count()).resolves.toBe(1);
      await expect(row.innerText()).resolves.toContain('not registered by an administrator');
      await Promise.all([page.waitForURL(`${app.url}/account?revoked=1`), row.getByRole('button', { name: 'Revoke' }).click()]);
      const deadline = Date.now() + (STATUS_LIST_TTL + 1) * 1000;

      // Within the status list's ttl + 1 s the MCP server refuses the token the agent holds…
      expect(await statusUntilRefused(notes, second.access_token, deadline)).toBe(401);
      expect((await rawCall(second.access_token, notes)).challenge).toMatch(/error="invalid_token"/);
      // …and the SDK cannot get another one: the refresh fails (invalid_grant) and it needs the person again.
      provider.person = undefined;
      await expect(whoami(client)).rejects.toThrow(UnauthorizedError);
      expect(provider.tokens()).toBeUndefined();
      await client.close();
    } finally {
      await context.close();
    }
  }, 40_000);

  it('with dynamic client registration (RFC 7591, REGISTRATION=open), over HTTP: registration, consent, a tool call, a refresh, and refusal within ttl + 1 s of a revocation on /account', async () => {
    const notes = await startRegisteredMcpServer();
    const metadata = await (await app.request('/.well-known/oauth-authorization-server')).json();
    expect(metadata.registration_endpoint).toBe(`${app.issuer}/oauth/register`);
    const seen: Seen = {};
    const bob = new Browserless(app.url);
    // No clientMetadataUrl: the SDK registers with the registration_endpoint.
    const provider = new MemoryOAuthProvider(callback.url, clientMetadata({ client_name: 'Registered Notes Agent' }), { person: scriptedPerson('bob', seen, bob) });
    const client = await connectMcpClient(notes.url, provider);

    const clientId = provider.clientInformation()!.client_id;
    expect(clientId).not.toMatch(/^https:/);
    expect(provider.clientInformation()).not.toHaveProperty('client_secret');
    const registered = await app.request(`/admin/clients/${clientId}`, { token: await app.adminToken() });
    expect(await registered.json()).toMatchObject({ client_id: clientId, name: 'Registered Notes Agent', type: 'public', redirect_uris: [callback.url] });
    const asked = Object.fromEntries(provider.authorizationUrls[0].searchParams);
    expect(asked).toMatchObject({ client_id: clientId, code_challenge_method: 'S256', scope: SCOPE, resource: notes.url });
    expect(seen.login).toContain('Registered Notes Agent');
    expect(seen.consent).toContain('Registered Notes Agent');
    expect(seen.consent).toContain('was not registered by an administrator');
    expect(seen.consent).toContain(`<strong>${new URL(callback.url).host}</strong>`);
    expect(provider.callback?.searchParams.get('iss')).toBe(app.issuer);
    const second = await callThenRefresh(client, provider, notes, users.bob.id, clientId);

    const account = await (await bob.get('/account')).text();
    const action = /<tr data-grant="[^"]+">(?:(?!<\/tr>)[\s\S])*?Registered Notes Agent[\s\S]*?action="(\/account\/grants\/[^"]+\/revoke)"/.exec(account)?.[1];
    expect(action).toBeDefined();
    const revoked = await bob.post(action!, { csrf: formFields(account).csrf });
    expect(revoked.headers.get('location')).toBe('/account?revoked=1');
    const deadline = Date.now() + (STATUS_LIST_TTL + 1) * 1000;
    expect(await statusUntilRefused(notes, second.access_token, deadline)).toBe(401);
    provider.person = undefined;
    await expect(whoami(client)).rejects.toThrow(UnauthorizedError);
    await client.close();
  }, 30_000);

  it('refuses a token Grantor issued for another resource (RFC 8707: aud is not this MCP server)', async () => {
    await app.resource({ identifier: 'https://calendar.example.com/mcp', name: 'Calendar', scopes: [{ name: SCOPE }] });
    const agent = await app.client({ name: 'Calendar agent', scopes: [SCOPE] });
    const res = await app.token({ grant_type: 'client_credentials', resource: 'https://calendar.example.com/mcp', scope: SCOPE }, { basic: [agent.client_id, agent.client_secret] });
    expect(res.status).toBe(200);
    const { access_token: token } = await res.json();
    expect(decodeJwt(token).aud).toBe('https://calendar.example.com/mcp');
    const refused = await rawCall(token);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toMatch(/error="invalid_token"/);
    expect(refused.challenge).toContain(`resource_metadata="${mcp.metadataUrl}"`);
  });

  it('fails cleanly when the Client ID Metadata Document does not list the redirect URI the SDK uses: an error page, no redirect, no code, no token, no grant', async () => {
    const clientId = publish('/elsewhere.json', clientMetadata({ redirect_uris: ['https://elsewhere.example.com/callback'] }));
    let answer: { status: number; location: string | null; page: string } | undefined;
    const carol = new Browserless(app.url);
    const watching: Person = async (authorizationUrl) => {
      const res = await carol.get(authorizationUrl.href);
      answer = { status: res.status, location: res.headers.get('location'), page: await res.text() };
      return undefined;
    };
    const provider = new MemoryOAuthProvider(callback.url, clientMetadata(), { clientMetadataUrl: clientId, person: watching });
    await expect(connectMcpClient(mcp.url, provider)).rejects.toThrow(/not sent back/);
    expect(answer?.status).toBe(400);
    expect(answer?.location).toBeNull();
    expect(answer?.page).toContain('role="alert"');
    expect(provider.tokens()).toBeUndefined();
    const grants = await (await app.request(`/admin/grants?client_id=${encodeURIComponent(clientId)}`, { token: await app.adminToken() })).json();
    expect(grants.items).toEqual([]);
  });
});

/** The agent's redirect URI: a loopback page that only says the person may go back to the agent. */
async function startCallbackServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Done</title><p>You may close this window.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

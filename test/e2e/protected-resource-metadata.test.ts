/**
 * Protected resource metadata (RFC 9728, issue #11 item 4) from the resource-server module: an API
 * whose identifier has a path (`https://mcp.example.com/mcp`, as MCP servers have) serves its
 * metadata, names it in every 401 and 403 challenge, and takes Grantor's tokens for that audience.
 * A real client (oauth4webapi) walks the whole discovery: challenge → resource metadata →
 * authorization server metadata → token → call.
 */
import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import * as oauth from 'oauth4webapi';
import {
  createProtectedResourceMetadata,
  createVerifier,
  requireToken,
  serveProtectedResourceMetadata,
  type ProtectedResourceMetadata,
  type Verifier,
} from '../../src/resource-server/index.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const MCP = 'https://mcp.example.com/mcp';
const METADATA_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const ALGS = 'ES256 ES384 PS256 RS256 EdDSA';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

type Creds = { client_id: string; client_secret: string };

interface McpApi {
  url: string;
  metadata: ProtectedResourceMetadata;
  close(): Promise<void>;
}

/** A koa API published as `https://mcp.example.com/mcp`: the metadata middleware, then POST /mcp needing scope `mcp`. */
async function startMcpApi(app: TestApp, verifier: Verifier): Promise<McpApi> {
  const metadata = createProtectedResourceMetadata({ resource: MCP, authorizationServers: [app.issuer], scopesSupported: ['mcp', 'mcp:admin'], resourceName: 'Notes MCP', verifier });
  const koa = new Koa();
  const router = new Router();
  const guard = (scopes: string[]) => requireToken(verifier, { scopes, resourceMetadata: metadata.url, origin: 'https://mcp.example.com' });
  router.post('/mcp', guard(['mcp']), (ctx) => {
    ctx.body = { ok: true, sub: (ctx.state.token as { sub: string }).sub };
  });
  router.post('/mcp/admin', guard(['mcp:admin']), (ctx) => {
    ctx.body = { ok: true };
  });
  koa.use(serveProtectedResourceMetadata(metadata));
  koa.use(router.routes());
  const server = http.createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    metadata,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('protected resource metadata (RFC 9728)', () => {
  let app: TestApp;
  let agent: Creds;
  let api: McpApi;

  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: MCP, name: 'Notes MCP', scopes: [{ name: 'mcp' }, { name: 'mcp:admin' }] });
    await app.resource({ identifier: 'https://mcp.example.com', name: 'the host, not the MCP endpoint', scopes: [{ name: 'host' }] });
    agent = await app.client({ scopes: ['mcp', 'host'] });
    api = await startMcpApi(app, createVerifier({ issuer: app.issuer, audience: MCP }));
  });
  afterAll(async () => {
    await api.close();
    await app.close();
  });

  const token = async (resource: string, scope?: string) => {
    const res = await app.token({ grant_type: 'client_credentials', resource, ...(scope ? { scope } : {}) }, { basic: [agent.client_id, agent.client_secret] });
    expect(res.status).toBe(200);
    return (await res.json()).access_token as string;
  };
  const call = (path: string, accessToken?: string) => fetch(`${api.url}${path}`, { method: 'POST', headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {} });

  describe('the document', () => {
    it('is served at the path-suffixed well-known URI (§3.1) with resource, authorization_servers, scopes_supported, bearer_methods_supported', async () => {
      const res = await fetch(`${api.url}/.well-known/oauth-protected-resource/mcp`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        resource: MCP,
        authorization_servers: [app.issuer],
        scopes_supported: ['mcp', 'mcp:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'Notes MCP',
        dpop_signing_alg_values_supported: ALGS.split(' '),
        dpop_bound_access_tokens_required: false,
      });
      expect(api.metadata.url).toBe(METADATA_URL);
    });

    it('is served at the bare well-known path too, which clients probe without a challenge', async () => {
      const res = await fetch(`${api.url}/.well-known/oauth-protected-resource`);
      expect(res.status).toBe(200);
      expect((await res.json()).resource).toBe(MCP);
    });

    it('answers HEAD, refuses other methods with 405, and leaves other paths to the API', async () => {
      expect((await fetch(`${api.url}/.well-known/oauth-protected-resource/mcp`, { method: 'HEAD' })).status).toBe(200);
      const post = await fetch(`${api.url}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect((await fetch(`${api.url}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
      expect(api.metadata.respond({ method: 'GET', path: '/mcp' })).toBeUndefined();
    });

    it('says DPoP is required when the verifier requires it (§2)', () => {
      const strict = createProtectedResourceMetadata({ resource: MCP, authorizationServers: [app.issuer], verifier: createVerifier({ issuer: app.issuer, audience: MCP, dpop: { required: true, algorithms: ['ES256'] } }) });
      expect(strict.document).toMatchObject({ dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['ES256'] });
    });

    it('is at /.well-known/oauth-protected-resource for a resource without a path', () => {
      const plain = createProtectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: [app.issuer] });
      expect(plain.url).toBe('https://api.example.com/.well-known/oauth-protected-resource');
      expect(plain.paths).toEqual(['/.well-known/oauth-protected-resource']);
      expect(plain.document).toEqual({ resource: 'https://api.example.com', authorization_servers: [app.issuer], bearer_methods_supported: ['header'] });
    });

    it.each([
      ['a relative reference', '/mcp'],
      ['http on a public host', 'http://mcp.example.com/mcp'],
      ['a fragment', 'https://mcp.example.com/mcp#x'],
      ['not a URL', 'mcp'],
    ])('refuses a resource identifier with %s (§1.2)', (_name, resource) => {
      expect(() => createProtectedResourceMetadata({ resource, authorizationServers: [app.issuer] })).toThrow(TypeError);
    });

    it('refuses to name no authorization server', () => {
      expect(() => createProtectedResourceMetadata({ resource: MCP, authorizationServers: [] })).toThrow(TypeError);
    });
  });

  describe('challenges name the metadata (§5.1) and the scope the route needs', () => {
    it('401 without a token', async () => {
      const res = await call('/mcp');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", resource_metadata="${METADATA_URL}", scope="mcp"`);
    });

    it('401 with an invalid token', async () => {
      const res = await call('/mcp', 'not.a.token');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked", resource_metadata="${METADATA_URL}", scope="mcp"`);
    });

    it('403 insufficient_scope', async () => {
      const res = await call('/mcp/admin', await token(MCP, 'mcp'));
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", resource_metadata="${METADATA_URL}", scope="mcp:admin"`);
    });

    it('a DPoP challenge names it too', async () => {
      const strict = await startMcpApi(app, createVerifier({ issuer: app.issuer, audience: MCP, dpop: { required: true } }));
      try {
        const res = await fetch(`${strict.url}/mcp`, { method: 'POST' });
        expect(res.headers.get('www-authenticate')).toBe(`DPoP realm="api", resource_metadata="${METADATA_URL}", scope="mcp", algs="${ALGS}"`);
      } finally {
        await strict.close();
      }
    });

    it('requireToken refuses a resource_metadata that cannot be a quoted string', () => {
      const verifier = createVerifier({ issuer: app.issuer, audience: MCP });
      expect(() => requireToken(verifier, { resourceMetadata: 'https://x.example.com/"' })).toThrow(TypeError);
      expect(() => requireToken(verifier, { resourceMetadata: 'https://x.example.com/a b' })).toThrow(TypeError);
    });
  });

  describe('a resource identifier with a path is an audience', () => {
    it('takes a token for https://mcp.example.com/mcp', async () => {
      const res = await call('/mcp', await token(MCP));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, sub: agent.client_id });
    });

    it('refuses a token for the host alone (another resource)', async () => {
      const res = await call('/mcp', await token('https://mcp.example.com'));
      expect(res.status).toBe(401);
    });
  });

  it('oauth4webapi: from a 401 challenge to a successful call, through both metadata documents', async () => {
    // The API is published as https://mcp.example.com: send those requests to the loopback API.
    const toLoopback: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      return url.origin === 'https://mcp.example.com' ? fetch(`${api.url}${url.pathname}${url.search}`, init) : fetch(input, init);
    };
    const options = { [oauth.customFetch]: toLoopback, ...insecure };

    // 1. A call with a token this API does not take: the challenge says where the metadata is.
    const challenge = await oauth.protectedResourceRequest('not-a-token', 'POST', new URL(MCP), undefined, undefined, options).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(challenge).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const params = (challenge as oauth.WWWAuthenticateChallengeError).cause[0].parameters;
    expect(params.resource_metadata).toBe(METADATA_URL);
    expect(params.scope).toBe('mcp');

    // 2. The resource metadata, checked by the client against the resource it called (§3.3).
    const rs = await oauth.processResourceDiscoveryResponse(new URL(MCP), await oauth.resourceDiscoveryRequest(new URL(MCP), options));
    expect(rs.authorization_servers).toEqual([app.issuer]);

    // 3. The authorization server's metadata, then a token for the resource, then the call.
    const issuer = new URL(rs.authorization_servers![0]);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const c: oauth.Client = { client_id: agent.client_id };
    const grant = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(agent.client_secret), { resource: rs.resource, scope: params.scope! }, insecure);
    const { access_token } = await oauth.processClientCredentialsResponse(as, c, grant);
    const res = await oauth.protectedResourceRequest(access_token, 'POST', new URL(MCP), undefined, undefined, options);
    expect(res.status).toBe(200);
  });
});

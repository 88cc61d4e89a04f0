/**
 * An MCP server as a user of Grantor would write one: the official SDK's McpServer over Streamable
 * HTTP (stateless), mounted in koa behind Grantor's resource-server module, which serves its RFC 9728
 * metadata and names it in every 401. One tool, `whoami`, answers what the verified token says.
 *
 * It listens on loopback first, so its resource identifier (`http://127.0.0.1:PORT/mcp`, the `aud`
 * of its tokens) is known before it is registered in Grantor. `now` is its clock (epoch seconds),
 * so a test can let an access token expire without waiting.
 */
import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import {
  createProtectedResourceMetadata,
  createVerifier,
  requireToken,
  serveProtectedResourceMetadata,
  type AccessTokenPayload,
} from '../../src/resource-server/index.js';

export interface TestMcpServer {
  /** The MCP endpoint, which is also its resource identifier: `http://127.0.0.1:PORT/mcp`. */
  url: string;
  /** Where its protected resource metadata is (RFC 9728 §3.1). */
  metadataUrl: string;
  close(): Promise<void>;
}

export async function startMcpServer(opts: { issuer: string; scope: string; now?: () => number }): Promise<TestMcpServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const resource = `${origin}/mcp`;
  const verifier = createVerifier({ issuer: opts.issuer, audience: resource, now: opts.now });
  const metadata = createProtectedResourceMetadata({ resource, authorizationServers: [opts.issuer], scopesSupported: [opts.scope], resourceName: 'Notes', verifier });

  const router = new Router();
  router.all('/mcp', requireToken(verifier, { scopes: [opts.scope], resourceMetadata: metadata.url }), async function mcp(ctx) {
    // Stateless Streamable HTTP: no server-initiated stream (GET) and no sessions to end (DELETE).
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'POST');
      return;
    }
    const claims = ctx.state.token as AccessTokenPayload;
    const auth: AuthInfo = {
      token: ctx.get('Authorization').replace(/^\S+\s+/, ''),
      clientId: claims.client_id,
      scopes: claims.scope?.split(' ') ?? [],
      expiresAt: claims.exp,
      resource: new URL(resource),
      extra: { sub: claims.sub },
    };
    const mcpServer = new McpServer({ name: 'notes', version: '1.0.0' });
    mcpServer.registerTool('whoami', { description: 'Who the access token speaks for' }, async (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ sub: extra.authInfo?.extra?.sub, client_id: extra.authInfo?.clientId, scope: extra.authInfo?.scopes.join(' ') }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    ctx.respond = false; // the SDK writes the answer itself
    ctx.res.on('close', () => void mcpServer.close());
    await mcpServer.connect(transport);
    await transport.handleRequest(Object.assign(ctx.req, { auth }), ctx.res);
  });

  const koa = new Koa();
  koa.use(serveProtectedResourceMetadata(metadata));
  koa.use(router.routes());
  server.on('request', koa.callback());

  return {
    url: resource,
    metadataUrl: metadata.url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

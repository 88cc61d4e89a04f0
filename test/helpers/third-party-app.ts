/**
 * A small third-party web app on loopback, the way a relying party in the wild would write one:
 * plain node:http and oauth4webapi, a public client (no secret) using the authorization code flow
 * with PKCE S256 against Grantor, then calling a resource server with the access token.
 *
 *   GET /          starts a session and redirects the browser to Grantor's authorization endpoint
 *   GET /callback  validates the authorization response (state, iss), redeems the code, calls the API
 *   GET /refresh   uses the refresh token; shows success or the token endpoint's error
 *   GET /api       calls the API again with the current access token
 *
 * Every page shows its outcome in elements with ids (#outcome, #error, #api-status, #api-body)
 * so a browser test can read them.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import escapeHtml from 'escape-html';
import * as oauth from 'oauth4webapi';

export interface ThirdPartyAppOptions {
  /** Grantor's issuer identifier (http on loopback). */
  issuer: string;
  /** The resource server's URL to GET with the access token (e.g. `${api.url}/me`). */
  apiUrl: string;
  /** The scope to ask for. */
  scope: string;
  /** Registers the app as a public client for this redirect URI; answers its client_id. */
  register(redirectUri: string): Promise<{ client_id: string }>;
}

interface Session {
  state?: string;
  codeVerifier?: string;
  accessToken?: string;
  refreshToken?: string;
}

export interface ThirdPartyApp {
  url: string;
  redirectUri: string;
  clientId: string;
  /** Every access token the app received, oldest first. */
  accessTokens: string[];
  close(): Promise<void>;
}

const COOKIE = 'thirdparty_session';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

export async function startThirdPartyApp(opts: ThirdPartyAppOptions): Promise<ThirdPartyApp> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const redirectUri = `${url}/callback`;
  const { client_id: clientId } = await opts.register(redirectUri);

  const issuer = new URL(opts.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  const client: oauth.Client = { client_id: clientId, token_endpoint_auth_method: 'none' };
  const clientAuth = oauth.None();
  const sessions = new Map<string, Session>();
  const accessTokens: string[] = [];

  function sessionOf(req: http.IncomingMessage): Session | undefined {
    const id = /(?:^|;\s*)thirdparty_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
    return id ? sessions.get(id) : undefined;
  }

  function page(res: http.ServerResponse, status: number, title: string, body: string): void {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Photo Printer</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
  }

  async function callApi(session: Session): Promise<string> {
    const res = await fetch(opts.apiUrl, { headers: { Authorization: `Bearer ${session.accessToken}` } });
    const text = await res.text();
    return `<p>The API answered <span id="api-status">${res.status}</span>.</p><pre id="api-body">${escapeHtml(text)}</pre>`;
  }

  function keep(session: Session, tokens: oauth.TokenEndpointResponse): void {
    session.accessToken = tokens.access_token;
    if (tokens.refresh_token) session.refreshToken = tokens.refresh_token;
    accessTokens.push(tokens.access_token);
  }

  const errorText = (err: unknown) =>
    err instanceof oauth.ResponseBodyError || err instanceof oauth.AuthorizationResponseError ? err.error : err instanceof Error ? err.message : String(err);

  server.on('request', async (req, res) => {
    const here = new URL(req.url ?? '/', url);
    try {
      if (here.pathname === '/') {
        const id = randomBytes(24).toString('base64url');
        const session: Session = { state: oauth.generateRandomState(), codeVerifier: oauth.generateRandomCodeVerifier() };
        sessions.set(id, session);
        const authorize = new URL(as.authorization_endpoint!);
        authorize.search = new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: redirectUri,
          scope: opts.scope,
          state: session.state!,
          code_challenge: await oauth.calculatePKCECodeChallenge(session.codeVerifier!),
          code_challenge_method: 'S256',
        }).toString();
        res.writeHead(302, { Location: authorize.href, 'Set-Cookie': `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax` });
        res.end();
        return;
      }
      const session = sessionOf(req);
      if (here.pathname === '/callback') {
        if (!session?.state || !session.codeVerifier) return page(res, 400, 'No sign-in in progress', '');
        let params: URLSearchParams;
        try {
          params = oauth.validateAuthResponse(as, client, here.searchParams, session.state);
        } catch (err) {
          return page(res, 400, 'Not connected', `<p>Grantor answered <strong id="error">${escapeHtml(errorText(err))}</strong>.</p>`);
        }
        const verifier = session.codeVerifier;
        session.state = session.codeVerifier = undefined; // one use
        const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, insecure);
        keep(session, await oauth.processAuthorizationCodeResponse(as, client, response));
        return page(res, 200, 'Connected', `<p id="outcome">connected</p>${await callApi(session)}`);
      }
      if (!session?.accessToken) return page(res, 401, 'Not connected', '<p><a href="/">Connect</a></p>');
      if (here.pathname === '/refresh') {
        try {
          const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, session.refreshToken!, insecure);
          keep(session, await oauth.processRefreshTokenResponse(as, client, response));
        } catch (err) {
          return page(res, 200, 'Refresh failed', `<p>Grantor answered <strong id="error">${escapeHtml(errorText(err))}</strong>.</p>`);
        }
        return page(res, 200, 'Refreshed', `<p id="outcome">refreshed</p>${await callApi(session)}`);
      }
      if (here.pathname === '/api') return page(res, 200, 'API', await callApi(session));
      page(res, 404, 'Not found', '');
    } catch (err) {
      page(res, 500, 'The app failed', `<pre id="error">${escapeHtml(err instanceof Error ? `${err.name}: ${err.message}` : String(err))}</pre>`);
    }
  });

  return {
    url,
    redirectUri,
    clientId,
    accessTokens,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

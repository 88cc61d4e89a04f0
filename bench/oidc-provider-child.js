// @ts-check
/**
 * node-oidc-provider v9 doing Grantor's job, in a process of its own: client_credentials with
 * client_secret_basic, an RFC 9068 JWT access token (RS256, one RSA-2048 key) for one resource
 * (resource indicators), the built-in in-memory adapter. Listens on 127.0.0.1:PORT and tells the
 * parent over IPC once it does.
 *
 * And Grantor's refresh job (bench phase 8b): a public client (authorization_code with PKCE +
 * refresh_token, token_endpoint_auth_method none) whose refresh tokens rotate on every use (the
 * provider's default for public clients). Its refresh tokens are seeded through the provider's own
 * authorization flow; /interaction/:uid stands in for the login and consent pages a deployment
 * writes: it signs the one bench person in and grants the requested scope for the resource at once.
 *
 * env: PORT, CLIENT_ID, CLIENT_SECRET, RESOURCE, SCOPE, SPA_CLIENT_ID, REDIRECT_URI
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, RESOURCE, SCOPE, SPA_CLIENT_ID, REDIRECT_URI } = process.env;
const issuer = `http://127.0.0.1:${PORT}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  // The client's allowed scopes (like Grantor's client scopes) must be scopes the provider knows.
  scopes: ['openid', 'offline_access', SCOPE],
  ttl: { ClientCredentials: 600, AccessToken: 600, RefreshToken: 14 * 24 * 3600, Grant: 14 * 24 * 3600, Session: 24 * 3600, Interaction: 600, AuthorizationCode: 60 },
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPE,
    },
    {
      client_id: SPA_CLIENT_ID,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      scope: SCOPE,
    },
  ],
  findAccount: (/** @type {unknown} */ _ctx, /** @type {string} */ accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
  interactions: { url: (/** @type {unknown} */ _ctx, /** @type {{ uid: string }} */ interaction) => `/interaction/${interaction.uid}` },
  // Like Grantor: a client allowed the refresh_token grant gets a refresh token (no offline_access dance).
  issueRefreshToken: (/** @type {unknown} */ _ctx, /** @type {{ grantTypeAllowed(grantType: string): boolean }} */ client) => client.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (/** @type {unknown} */ _ctx, /** @type {string} */ resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
// Like Grantor's app.silent: no stack traces on stderr for refused requests.
provider.on('server_error', (/** @type {unknown} */ _ctx, /** @type {Error | undefined} */ err) => process.stderr.write(`oidc-provider server_error: ${err?.stack}\n`));

/**
 * The login and consent pages' stand-in: the bench person, signed in, granting what is asked.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 */
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const accountId = details.session?.accountId ?? 'bench-person';
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope ?? ''));
  grant.addResourceScope(RESOURCE, SCOPE);
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      process.stderr.write(`interaction failed: ${err?.stack}\n`);
      res.statusCode = 500;
      res.end();
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 5_000;
server.listen(Number(PORT), '127.0.0.1', () => process.send?.({ ready: true, issuer }));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
});

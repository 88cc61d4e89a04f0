/**
 * node-oidc-provider v9 doing Grantor's job, in a process of its own: client_credentials with
 * client_secret_basic, an RFC 9068 JWT access token (RS256, one RSA-2048 key) for one resource
 * (resource indicators), the built-in in-memory adapter. Listens on 127.0.0.1:PORT and tells the
 * parent over IPC once it does.
 *
 * env: PORT, CLIENT_ID, CLIENT_SECRET, RESOURCE, SCOPE
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, RESOURCE, SCOPE } = process.env;
const issuer = `http://127.0.0.1:${PORT}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  // The client's allowed scopes (like Grantor's client scopes) must be scopes the provider knows.
  scopes: ['openid', 'offline_access', SCOPE],
  ttl: { ClientCredentials: 600 },
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
  ],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
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
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err?.stack}\n`));

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 5_000;
server.listen(Number(PORT), '127.0.0.1', () => process.send?.({ ready: true, issuer }));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
});

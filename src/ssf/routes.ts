import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { bearerAuth } from '../http/bearer-auth.js';
import { noStore } from '../http/no-store.js';
import { readJson } from '../http/read-json.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Clock } from '../lib/clock.js';
import { acceptAccessToken, type VerifiedTokens } from '../oauth/accept-access-token.js';
import { SSF_SCOPE } from '../registry/schemas.js';
import { ssfAudience } from '../registry/resources.js';
import type { Db } from '../store/db.js';
import type { ReadCache } from '../store/read-cache.js';
import { ssfConfiguration, ssfConfigurationPath } from './configuration.js';
import type { Dispatcher } from './dispatcher.js';
import { pollStream } from './poll.js';
import * as streams from './streams.js';

export type SsfRouteDeps = {
  db: Db;
  clock: Clock;
  keyRing: KeyRing;
  logger: Logger;
  readCache: ReadCache;
  verifiedTokens: VerifiedTokens;
  sealingKey: Buffer;
  ssf: Dispatcher;
  config: Pick<Config, 'issuer' | 'baseUrl' | 'bodyLimit' | 'grantIdleTimeout' | 'outbound' | 'ssf'>;
};

/**
 * The Shared Signals transmitter's HTTP edge (issue #13): the configuration document (SSF 1.0 §7),
 * stream management (§8.1), verification (§8.1.4) and polling (RFC 8936), every call but the
 * first with a bearer token of scope `ssf` (a stream belongs to the client whose token made it).
 */
export function ssfRoutes(deps: SsfRouteDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  const config = ssfConfiguration(deps.config);
  router.get(ssfConfigurationPath(deps.config), async function ssfConfigurationDocument(ctx: Context) {
    ctx.body = config;
  });

  const api = new Router({ prefix: streams.SSF_PREFIX, sensitive: true, strict: true });
  api.use(
    bearerAuth({
      realm: 'grantor-ssf',
      scope: SSF_SCOPE,
      audience: ssfAudience(deps.config),
      // Revoked grants and disabled or deleted clients are refused at once, as on the admin API.
      accept: (token) => acceptAccessToken(deps, token),
    }),
    noStore(),
    readJson({ limit: deps.config.bodyLimit }),
  );

  api.post('/streams', async function createStream(ctx: Context) {
    ctx.status = 201;
    ctx.body = await streams.createStream(deps, clientOf(ctx), ctx.request.body);
  });
  api.get('/streams', async function readStreams(ctx: Context) {
    ctx.body = await streams.readStreams(deps, clientOf(ctx), ctx.query);
  });
  api.patch('/streams', async function updateStream(ctx: Context) {
    ctx.body = await streams.updateStream(deps, clientOf(ctx), ctx.request.body, false);
  });
  api.put('/streams', async function replaceStream(ctx: Context) {
    ctx.body = await streams.updateStream(deps, clientOf(ctx), ctx.request.body, true);
  });
  api.delete('/streams', async function deleteStream(ctx: Context) {
    await streams.deleteStream(deps, clientOf(ctx), ctx.query);
    ctx.status = 204;
  });
  api.get('/status', async function readStatus(ctx: Context) {
    ctx.body = await streams.readStatus(deps, clientOf(ctx), ctx.query);
  });
  api.post('/status', async function updateStatus(ctx: Context) {
    ctx.body = await streams.updateStatus(deps, clientOf(ctx), ctx.request.body);
  });
  api.post('/verify', async function requestVerification(ctx: Context) {
    await streams.requestVerification(deps, clientOf(ctx), ctx.request.body);
    ctx.status = 204;
  });
  api.post('/streams/:id/poll', async function poll(ctx: Context) {
    // A client that goes away releases its held poll.
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    ctx.body = await pollStream({ ...deps, dispatcher: deps.ssf }, clientOf(ctx), ctx.params.id, ctx.request.body, gone.signal);
  });

  router.use(api.routes());
  return router;
}

function clientOf(ctx: Context): string {
  return (ctx.state.token as { client_id: string }).client_id;
}

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { bearerAuth } from '../http/bearer-auth.js';
import { readJson } from '../http/read-json.js';
import type { KeyRing, SigningKey } from '../keys/key-ring.js';
import * as keys from '../keys/views.js';
import { acceptAccessToken, type VerifiedTokens } from '../oauth/accept-access-token.js';
import type { Clock } from '../lib/clock.js';
import * as blocked from '../registry/blocked-clients.js';
import * as clients from '../registry/clients.js';
import * as registrationTokens from '../registry/registration-tokens.js';
import * as resources from '../registry/resources.js';
import * as users from '../registry/users.js';
import { ADMIN_SCOPE } from '../registry/schemas.js';
import * as grants from '../revocation/grants.js';
import type { EventWake } from '../revocation/revoke-grant.js';
import type { StatusList } from '../revocation/status-list.js';
import type { Db } from '../store/db.js';
import type { ReadCache } from '../store/read-cache.js';
import type { Page } from '../store/tables.js';

export type AdminRouteDeps = { db: Db; clock: Clock; keyRing: KeyRing; rotateKeys: () => Promise<SigningKey>; statusList: StatusList; readCache: ReadCache; verifiedTokens: VerifiedTokens; ssf: EventWake; config: Pick<Config, 'issuer' | 'baseUrl' | 'bodyLimit' | 'grantIdleTimeout'> };

export const ADMIN_PREFIX = '/admin';

/** The admin HTTP API: JSON in and out, thin over the registry, guarded by a bearer token with scope `admin`. */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const router = new Router({ prefix: ADMIN_PREFIX, sensitive: true, strict: true });
  const audience = resources.adminAudience(deps.config);

  router.use(
    bearerAuth({
      realm: 'grantor-admin',
      scope: ADMIN_SCOPE,
      audience,
      // Revoked grants and disabled or deleted clients are refused here at once (issue #10).
      accept: (token) => acceptAccessToken(deps, token),
    }),
    readJson({ limit: deps.config.bodyLimit }),
  );

  router.post('/resources', async function createResource(ctx: Context) {
    ctx.status = 201;
    ctx.body = await resources.createResource(deps, ctx.request.body);
  });
  router.get('/resources', async function listResources(ctx: Context) {
    ctx.body = pageBody(await resources.listResources(deps, ctx.query));
  });
  router.get('/resources/:id', async function getResource(ctx: Context) {
    ctx.body = await resources.getResource(deps, ctx.params.id);
  });
  router.patch('/resources/:id', async function updateResource(ctx: Context) {
    ctx.body = await resources.updateResource(deps, ctx.params.id, ctx.request.body);
  });
  router.delete('/resources/:id', async function deleteResource(ctx: Context) {
    await resources.deleteResource(deps, ctx.params.id);
    ctx.status = 204;
  });

  router.post('/clients', async function createClient(ctx: Context) {
    ctx.set('Cache-Control', 'no-store'); // the answer holds the client secret
    ctx.status = 201;
    ctx.body = await clients.createClient(deps, ctx.request.body);
  });
  router.get('/clients', async function listClients(ctx: Context) {
    ctx.body = pageBody(await clients.listClients(deps, ctx.query));
  });
  router.get('/clients/:client_id', async function getClient(ctx: Context) {
    ctx.body = await clients.getClient(deps, ctx.params.client_id);
  });
  router.patch('/clients/:client_id', async function updateClient(ctx: Context) {
    ctx.body = await clients.updateClient(deps, ctx.params.client_id, ctx.request.body, adminName(ctx));
  });
  router.delete('/clients/:client_id', async function deleteClient(ctx: Context) {
    await clients.deleteClient(deps, ctx.params.client_id, adminName(ctx));
    ctx.status = 204;
  });
  router.post('/clients/:client_id/secret', async function rotateClientSecret(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await clients.rotateClientSecret(deps, ctx.params.client_id);
  });

  // Issue #11: block a Client ID Metadata Document URL (or a registered client) by its client_id.
  router.post('/blocked-clients', async function blockClient(ctx: Context) {
    ctx.status = 201;
    ctx.body = await blocked.blockClient(deps, ctx.request.body, adminName(ctx));
  });
  router.get('/blocked-clients', async function listBlockedClients(ctx: Context) {
    ctx.body = pageBody(await blocked.listBlockedClients(deps, ctx.query));
  });
  router.delete('/blocked-clients/:client_id', async function unblockClient(ctx: Context) {
    await blocked.unblockClient(deps, ctx.params.client_id);
    ctx.status = 204;
  });

  // RFC 7591 §3: initial access tokens for REGISTRATION=token; the token is in this answer only.
  router.post('/registration-tokens', async function createRegistrationToken(ctx: Context) {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 201;
    ctx.body = await registrationTokens.createRegistrationToken(deps, ctx.request.body);
  });
  router.get('/registration-tokens', async function listRegistrationTokens(ctx: Context) {
    ctx.body = pageBody(await registrationTokens.listRegistrationTokens(deps, ctx.query));
  });
  router.delete('/registration-tokens/:id', async function revokeRegistrationToken(ctx: Context) {
    await registrationTokens.revokeRegistrationToken(deps, ctx.params.id);
    ctx.status = 204;
  });

  router.post('/users', async function createUser(ctx: Context) {
    ctx.status = 201;
    ctx.body = await users.createUser(deps, ctx.request.body);
  });
  router.get('/users', async function listUsers(ctx: Context) {
    ctx.body = pageBody(await users.listUsers(deps, ctx.query));
  });
  router.get('/users/:id', async function getUser(ctx: Context) {
    ctx.body = await users.getUser(deps, ctx.params.id);
  });
  router.patch('/users/:id', async function updateUser(ctx: Context) {
    ctx.body = await users.updateUser(deps, ctx.params.id, ctx.request.body, adminName(ctx));
  });
  router.delete('/users/:id', async function deleteUser(ctx: Context) {
    await users.deleteUser(deps, ctx.params.id, adminName(ctx));
    ctx.status = 204;
  });

  router.get('/keys', async function listKeys(ctx: Context) {
    await deps.keyRing.refresh();
    ctx.body = keys.listKeys(deps.keyRing);
  });
  router.post('/keys/rotate', async function rotateKeys(ctx: Context) {
    ctx.status = 201;
    ctx.body = await keys.rotate(deps.keyRing, deps.rotateKeys);
  });

  router.get('/grants', async function listGrants(ctx: Context) {
    ctx.body = pageBody(await grants.listGrantViews(deps, ctx.query));
  });
  router.get('/grants/:id', async function getGrant(ctx: Context) {
    ctx.body = await grants.getGrantView(deps, ctx.params.id);
  });
  router.delete('/grants/:id', async function revokeGrant(ctx: Context) {
    // The reason may come as JSON {"reason": …} or as ?reason=…
    const body = ctx.request.body && Object.keys(ctx.request.body).length ? ctx.request.body : ctx.query;
    ctx.body = await grants.revokeGrantById(deps, ctx.params.id, body, adminName(ctx));
  });
  router.post('/revocations', async function revokeMany(ctx: Context) {
    ctx.body = await grants.revokeMany(deps, ctx.request.body, adminName(ctx));
  });
  router.get('/revocations', async function revocationFeed(ctx: Context) {
    ctx.body = await grants.revocationFeed(deps, ctx.query);
  });

  return router;
}

/** Who did it, for the revocation list: the admin token's client. */
function adminName(ctx: Context): string {
  return `admin:${(ctx.state.token as { client_id: string }).client_id}`;
}

function pageBody<T>(page: Page<T>): { items: T[]; next_cursor: string | null } {
  return { items: page.items, next_cursor: page.nextCursor };
}

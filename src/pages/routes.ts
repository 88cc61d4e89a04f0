import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Config } from '../config.js';
import { readForm } from '../http/read-form.js';
import type { Clock } from '../lib/clock.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../lib/password.js';
import { approveAuthorization, consentCovers, denyAuthorization, mayRememberConsent } from '../oauth/approve.js';
import { checkAuthorizationRequest, errorRedirect } from '../oauth/authorize.js';
import { grantUsable } from '../oauth/grants/issue-tokens.js';
import { adminResource, builtInResources } from '../registry/resources.js';
import { USERNAME } from '../registry/schemas.js';
import { revokeGrant, type EventWake } from '../revocation/revoke-grant.js';
import type { StatusList } from '../revocation/status-list.js';
import { findClient } from '../store/clients.js';
import { isMetadataDocumentUrl } from '../oauth/client-metadata-document.js';
import type { Db } from '../store/db.js';
import type { ReadCache } from '../store/read-cache.js';
import { findGrant, listGrants } from '../store/grants.js';
import { findResourceByIdentifier } from '../store/resources.js';
import type { ResourceRow, UserRow } from '../store/tables.js';
import { findUserByUsername } from '../store/users.js';
import type { LoginLimiter } from './login-limiter.js';
import { csrfToken, csrfValid, currentUser, endSession, startSession } from './session.js';
import { accountPage, consentPage, errorPage, loginBlockedMessage, loginPage, STYLESHEET, STYLESHEET_PATH, type ConnectedApp } from './templates.js';

export type PagesDeps = {
  db: Db;
  clock: Clock;
  statusList: Pick<StatusList, 'invalidate'>;
  ssf: EventWake;
  readCache: ReadCache;
  loginLimiter: LoginLimiter;
  config: Pick<Config, 'issuer' | 'baseUrl' | 'bodyLimit' | 'codeTtl' | 'grantMaxLifetime' | 'grantIdleTimeout' | 'sessionTtl'>;
};

export const AUTHORIZE_PATH = '/oauth/authorize';
const ACCOUNT_PATH = '/account';

/**
 * The person-facing side: the authorization endpoint (RFC 6749 §4.1.1) with its login and consent
 * pages, and the connected-apps page. Server-rendered, usable without JavaScript, every form
 * CSRF-protected, never framed.
 */
export function pagesRoutes(deps: PagesDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  const form = readForm({ limit: deps.config.bodyLimit });

  router.get(STYLESHEET_PATH, function serveStylesheet(ctx: Context) {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'text/css';
    ctx.body = STYLESHEET;
  });

  router.get(AUTHORIZE_PATH, pageHeaders, async function authorize(ctx: Context) {
    const outcome = await checkAuthorizationRequest(deps, new URLSearchParams(ctx.querystring));
    if (!outcome.ok) return outcome.redirect ? redirect(ctx, outcome.location) : showError(ctx, 400, outcome.description);
    const { request } = outcome;
    const user = request.prompt.has('login') ? undefined : await currentUser(deps, ctx);
    if (!user) {
      // OpenID-style prompt=none: the app asked not to show anything.
      if (request.prompt.has('none')) return redirect(ctx, errorRedirect(deps, request.redirectUri, 'login_required', 'the person is not signed in', request.state));
      const returnTo = `${AUTHORIZE_PATH}?${withoutPrompt(request.params, 'login')}`;
      // An app no admin registered names itself: the login page shows whose URL the claim comes from.
      const appName = request.client.source === 'metadata_document' ? `${request.client.name} (${new URL(request.client.clientId).host})` : request.client.name;
      ctx.body = loginPage({ csrf: csrfToken(deps, ctx), returnTo, appName });
      return;
    }
    const approvedBefore = await consentCovers(deps, user.id, request);
    if (!request.prompt.has('consent') && approvedBefore && mayRememberConsent(request.client)) {
      return redirect(ctx, await approveAuthorization(deps, user.id, request));
    }
    if (request.prompt.has('none')) {
      const why = approvedBefore ? 'this app must ask the person each time' : 'the person has not approved this yet';
      return redirect(ctx, errorRedirect(deps, request.redirectUri, 'consent_required', why, request.state));
    }
    ctx.body = consentPage({
      askedAgain: approvedBefore && !mayRememberConsent(request.client),
      csrf: csrfToken(deps, ctx),
      params: withoutPromptParams(request.params, 'consent'),
      appName: request.client.name,
      resourceName: request.resource.name,
      scopes: describe(request.resource, request.scopes),
      username: user.username,
      // Issue #11: an app no admin registered is shown as such, with where the answer goes.
      unvetted: request.client.source
        ? { clientId: request.client.source === 'metadata_document' ? request.client.clientId : undefined, redirectHost: new URL(request.redirectUri).host }
        : undefined,
    });
  });

  router.post(AUTHORIZE_PATH, pageHeaders, form, async function decide(ctx: Context) {
    const posted: URLSearchParams = ctx.state.form;
    if (!csrfValid(ctx, posted)) return showError(ctx, 403, 'This form has expired. Go back to the app and start again.');
    const user = await currentUser(deps, ctx);
    if (!user) return showError(ctx, 401, 'You are not signed in any more. Go back to the app and start again.');
    // The request travels through the form, so it is checked again from scratch.
    const outcome = await checkAuthorizationRequest(deps, posted);
    if (!outcome.ok) return outcome.redirect ? redirect(ctx, outcome.location) : showError(ctx, 400, outcome.description);
    const decision = posted.get('decision');
    if (decision === 'allow') return redirect(ctx, await approveAuthorization(deps, user.id, outcome.request));
    if (decision === 'deny') return redirect(ctx, denyAuthorization(deps, outcome.request));
    return showError(ctx, 400, 'Choose Allow or Deny.');
  });

  router.get('/login', pageHeaders, function showLogin(ctx: Context) {
    ctx.body = loginPage({ csrf: csrfToken(deps, ctx), returnTo: safeReturnTo(ctx.query.return_to) });
  });

  router.post('/login', pageHeaders, form, async function login(ctx: Context) {
    const posted: URLSearchParams = ctx.state.form;
    const returnTo = safeReturnTo(posted.get('return_to'));
    if (!csrfValid(ctx, posted)) return showError(ctx, 403, 'This form has expired. Reload the page and try again.');
    const username = (posted.get('username') ?? '').slice(0, 64);
    const password = posted.get('password') ?? '';
    const again = (status: number, error: string) => {
      ctx.status = status;
      ctx.body = loginPage({ csrf: csrfToken(deps, ctx), returnTo, error, username });
    };
    const wait = await deps.loginLimiter.retryAfter(username, ctx.ip);
    if (wait) {
      ctx.set('Retry-After', String(wait.seconds));
      return again(429, loginBlockedMessage(wait));
    }
    // Only a well-formed name can exist; anything else (a NUL byte PostgreSQL refuses) fails like a wrong password, and counts.
    const user = USERNAME.test(username) ? await findUserByUsername(deps.db, username.toLowerCase()) : undefined;
    // Check a hash even for an unknown name, so the answer's timing does not tell which names exist.
    const ok = await verifyPassword(password.slice(0, 1024), user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok || user.disabled) {
      await deps.loginLimiter.failed(username, ctx.ip);
      return again(401, 'Wrong username or password.');
    }
    await deps.loginLimiter.succeeded(username, ctx.ip);
    await startSession(deps, ctx, user.id);
    redirect(ctx, returnTo);
  });

  router.post('/logout', pageHeaders, form, async function logout(ctx: Context) {
    if (!csrfValid(ctx, ctx.state.form)) return showError(ctx, 403, 'This form has expired. Reload the page and try again.');
    await endSession(deps, ctx);
    redirect(ctx, '/login');
  });

  router.get(ACCOUNT_PATH, pageHeaders, async function account(ctx: Context) {
    const user = await currentUser(deps, ctx);
    if (!user) return redirect(ctx, `/login?return_to=${encodeURIComponent(ACCOUNT_PATH)}`);
    ctx.body = accountPage({ csrf: csrfToken(deps, ctx), username: user.username, apps: await connectedApps(deps, user), notice: ctx.query.revoked ? 'Access revoked.' : undefined });
  });

  router.post(`${ACCOUNT_PATH}/grants/:id/revoke`, pageHeaders, form, async function revokeApp(ctx: Context) {
    if (!csrfValid(ctx, ctx.state.form)) return showError(ctx, 403, 'This form has expired. Reload the page and try again.');
    const user = await currentUser(deps, ctx);
    if (!user) return redirect(ctx, `/login?return_to=${encodeURIComponent(ACCOUNT_PATH)}`);
    const grant = await findGrant(deps.db, ctx.params.id);
    // Only the person's own grants; anything else looks like nothing happened.
    if (grant && grant.userId === user.id) await revokeGrant(deps, grant.id, { reason: 'revoked by the person on the connected-apps page', by: `user:${user.id}` });
    redirect(ctx, `${ACCOUNT_PATH}?revoked=1`);
  });

  return router;
}

/** Pages are never cached, never framed, and load nothing but Grantor's own stylesheet. */
async function pageHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  ctx.set('X-Frame-Options', 'DENY');
  await next();
  if (typeof ctx.body === 'string') ctx.type = 'text/html; charset=utf-8';
}

function redirect(ctx: Context, location: string): void {
  ctx.status = ctx.method === 'GET' ? 302 : 303;
  ctx.set('Location', location);
  ctx.body = '';
}

function showError(ctx: Context, status: number, message: string): void {
  ctx.status = status;
  ctx.body = errorPage({ title: status === 400 ? 'This request cannot be completed' : 'Something is not right', message });
}

/**
 * Only Grantor's own pages may be returned to after login: no open redirect. The authorization
 * requests Grantor builds are percent-encoded, so anything but printable ASCII (a control
 * character, a non-ASCII letter: a Location header cannot carry them, the redirect threw a 500)
 * or a backslash is not one of them.
 */
function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string') return ACCOUNT_PATH;
  if (value === ACCOUNT_PATH || (value.startsWith(`${AUTHORIZE_PATH}?`) && /^[\x21-\x5b\x5d-\x7e]+$/.test(value))) return value;
  return ACCOUNT_PATH;
}

/** The request without one prompt value, so a forced login or consent is not asked again after it. */
function withoutPromptParams(params: URLSearchParams, drop: string): URLSearchParams {
  const out = new URLSearchParams(params);
  const rest = (params.get('prompt') ?? '').split(' ').filter((p) => p && p !== drop);
  if (rest.length) out.set('prompt', rest.join(' '));
  else out.delete('prompt');
  return out;
}

function withoutPrompt(params: URLSearchParams, drop: string): string {
  return withoutPromptParams(params, drop).toString();
}

function describe(resource: ResourceRow, scopes: string[]) {
  return scopes.map((name) => ({ name, description: resource.scopes.find((s) => s.name === name)?.description ?? '' }));
}

async function connectedApps(deps: PagesDeps, user: UserRow): Promise<ConnectedApp[]> {
  const page = await listGrants(deps.db, { userId: user.id, status: 'active' }, { limit: 200 });
  const apps: ConnectedApp[] = [];
  const now = deps.clock.now();
  // Grants past their lifetime or idle timeout hold no access any more: not listed.
  for (const grant of page.items.filter((g) => grantUsable(deps, g, now))) {
    const client = await findClient(deps.db, grant.clientId);
    const resource = (await findResourceByIdentifier(deps.db, grant.resource)) ?? builtInResources(deps.config).find((r) => r.identifier === grant.resource) ?? adminResource(deps.config);
    apps.push({
      grantId: grant.id,
      appName: client?.name ?? grant.clientId,
      // An app known by its metadata document is named by its URL here: listing a person's apps
      // fetches nothing, and the URL is who the app is (issue #11).
      // A self-registered client (RFC 7591) is a row, marked as such.
      unvetted: client ? client.source !== undefined : isMetadataDocumentUrl(grant.clientId),
      resourceName: resource.name,
      scopes: describe(resource, grant.scope.split(' ')),
      since: new Date(grant.createdAt * 1000).toISOString().slice(0, 10),
    });
  }
  return apps;
}

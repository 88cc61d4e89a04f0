import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { randomToken } from '../lib/random.js';
import { hashSecret } from '../lib/secret.js';
import type { Db } from '../store/db.js';
import { deleteSession, findSession, insertSession } from '../store/sessions.js';
import { findUser } from '../store/users.js';
import type { UserRow } from '../store/tables.js';

export type SessionDeps = { db: Db; clock: Clock; config: Pick<Config, 'issuer' | 'sessionTtl'> };

const SESSION_COOKIE = 'grantor_session';
const CSRF_COOKIE = 'grantor_csrf';

/** RFC 9700 §4.16 / OWASP: HttpOnly, SameSite=Lax, Secure whenever the issuer is https. */
function cookieOptions(deps: SessionDeps, maxAgeSeconds?: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: deps.config.issuer.startsWith('https:'),
    path: '/',
    overwrite: true,
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds * 1000 } : {}),
  };
}

/**
 * Sets a cookie with cookieOptions(). Behind a TLS-terminating proxy Grantor sees plain http while
 * the browser speaks https (the issuer says so): the cookie is still sent Secure, which the cookies
 * library would otherwise refuse over a connection it thinks unencrypted (every page answered 500).
 */
function setCookie(deps: SessionDeps, ctx: Context, name: string, value: string, maxAgeSeconds?: number): void {
  const options = cookieOptions(deps, maxAgeSeconds);
  if (options.secure) ctx.cookies.secure = true;
  ctx.cookies.set(name, value, options);
}

/** The signed-in person of this request, if the session cookie names a live session of an enabled user. */
export async function currentUser(deps: SessionDeps, ctx: Context): Promise<UserRow | undefined> {
  const value = ctx.cookies.get(SESSION_COOKIE);
  if (!value || value.length > 128) return undefined;
  const session = await findSession(deps.db, hashSecret(value), deps.clock.now());
  if (!session) return undefined;
  const user = await findUser(deps.db, session.userId);
  return user && !user.disabled ? user : undefined;
}

/** Starts a fresh session (a new id at every login: no session fixation). Only its hash is stored. */
export async function startSession(deps: SessionDeps, ctx: Context, userId: string): Promise<void> {
  await endSession(deps, ctx);
  const value = randomToken(32);
  const now = deps.clock.now();
  await insertSession(deps.db, { idHash: hashSecret(value), userId, createdAt: now, expiresAt: now + deps.config.sessionTtl });
  setCookie(deps, ctx, SESSION_COOKIE, value, deps.config.sessionTtl);
  rotateCsrf(deps, ctx);
}

export async function endSession(deps: SessionDeps, ctx: Context): Promise<void> {
  const value = ctx.cookies.get(SESSION_COOKIE);
  if (value && value.length <= 128) await deleteSession(deps.db, hashSecret(value));
  setCookie(deps, ctx, SESSION_COOKIE, '', 0);
}

/**
 * CSRF protection by double submission: a random value in an HttpOnly cookie and the same value
 * in every form. Another site can make the browser post, but cannot read or set the value.
 * Returns the value for the form, setting the cookie when there is none yet.
 */
export function csrfToken(deps: SessionDeps, ctx: Context): string {
  if (typeof ctx.state.csrf === 'string') return ctx.state.csrf;
  const existing = ctx.cookies.get(CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  return rotateCsrf(deps, ctx);
}

function rotateCsrf(deps: SessionDeps, ctx: Context): string {
  const value = randomToken(32);
  setCookie(deps, ctx, CSRF_COOKIE, value);
  // The same request may render a form after this: let csrfToken() see the new value.
  ctx.state.csrf = value;
  return value;
}

/** True when the form's `csrf` field equals the cookie (constant time). */
export function csrfValid(ctx: Context, form: URLSearchParams): boolean {
  const cookie = ctx.cookies.get(CSRF_COOKIE) ?? '';
  const field = form.get('csrf') ?? '';
  const a = Buffer.from(cookie);
  const b = Buffer.from(field);
  return a.length === 43 && a.length === b.length && timingSafeEqual(a, b);
}

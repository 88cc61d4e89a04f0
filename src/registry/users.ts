import { OAuthError } from '../errors.js';
import { hashPassword } from '../lib/password.js';
import { randomId } from '../lib/random.js';
import { validate } from '../lib/validate.js';
import { revokeGrantsOf, type RevokeDeps } from '../revocation/revoke-grant.js';
import { deleteSessionsOf } from '../store/sessions.js';
import * as store from '../store/users.js';
import type { Page, UserRow } from '../store/tables.js';
import { CreateUserSchema, ListQuerySchema, UpdateUserSchema } from './schemas.js';

export type UserRegistryDeps = RevokeDeps;

/** A person as admins see them: never the password hash. */
export interface UserView {
  id: string;
  username: string;
  disabled: boolean;
  created_at: number;
  updated_at: number;
}

export const viewUser = (u: UserRow): UserView => ({ id: u.id, username: u.username, disabled: u.disabled, created_at: u.createdAt, updated_at: u.updatedAt });

export async function createUser(deps: UserRegistryDeps, input: unknown): Promise<UserView> {
  const body = validate(CreateUserSchema, input);
  if (await store.findUserByUsername(deps.db, body.username)) throw new OAuthError('conflict', 'username: taken');
  const now = deps.clock.now();
  const user: UserRow = { id: randomId(), username: body.username, passwordHash: await hashPassword(body.password), disabled: false, createdAt: now, updatedAt: now };
  try {
    await store.insertUser(deps.db, user);
  } catch (err) {
    if (await store.findUserByUsername(deps.db, body.username)) throw new OAuthError('conflict', 'username: taken');
    throw err;
  }
  return viewUser(user);
}

export async function getUser(deps: Pick<UserRegistryDeps, 'db'>, id: string): Promise<UserView> {
  const user = await store.findUser(deps.db, id);
  if (!user) throw new OAuthError('not_found', 'no such user');
  return viewUser(user);
}

export async function listUsers(deps: Pick<UserRegistryDeps, 'db'>, query: unknown): Promise<Page<UserView>> {
  const { limit, cursor } = validate(ListQuerySchema, query);
  const page = await store.listUsers(deps.db, { limit, cursor });
  return { items: page.items.map(viewUser), nextCursor: page.nextCursor };
}

/** Changes a password or disables a person; disabling signs them out and revokes their grants. */
export async function updateUser(deps: UserRegistryDeps, id: string, input: unknown, by = 'admin'): Promise<UserView> {
  const body = validate(UpdateUserSchema, input);
  const user = await store.findUser(deps.db, id);
  if (!user) throw new OAuthError('not_found', 'no such user');
  const changes: Parameters<typeof store.updateUser>[2] = { updatedAt: deps.clock.now() };
  if (body.password !== undefined) changes.passwordHash = await hashPassword(body.password);
  if (body.disabled !== undefined) changes.disabled = body.disabled;
  await store.updateUser(deps.db, id, changes);
  // A new password ends every session: whoever knew the old one is signed out.
  if (body.password !== undefined) await deleteSessionsOf(deps.db, id);
  if (body.disabled && !user.disabled) {
    await deleteSessionsOf(deps.db, id);
    await revokeGrantsOf(deps, { userId: id }, { reason: 'user disabled', by });
  }
  return viewUser({ ...user, ...changes });
}

/** Deletes a person after signing them out and revoking every grant they gave. */
export async function deleteUser(deps: UserRegistryDeps, id: string, by = 'admin'): Promise<void> {
  if (!(await store.findUser(deps.db, id))) throw new OAuthError('not_found', 'no such user');
  await store.updateUser(deps.db, id, { disabled: true });
  await deleteSessionsOf(deps.db, id);
  await revokeGrantsOf(deps, { userId: id }, { reason: 'user deleted', by });
  await store.deleteUser(deps.db, id);
}

import type { Knex } from 'knex';
import { paginate } from './paginate.js';
import type { Page, UserRow } from './tables.js';

interface RawUser {
  id: string;
  username: string;
  password_hash: string;
  disabled: number | boolean;
  created_at: number | string;
  updated_at: number | string;
}

const toRow = (r: RawUser): UserRow => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  disabled: Boolean(r.disabled),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export async function insertUser(db: Knex, u: UserRow): Promise<void> {
  await db('users').insert({ id: u.id, username: u.username, password_hash: u.passwordHash, disabled: u.disabled, created_at: u.createdAt, updated_at: u.updatedAt });
}

export async function findUser(db: Knex, id: string): Promise<UserRow | undefined> {
  const raw = await db<RawUser>('users').where({ id }).first();
  return raw ? toRow(raw) : undefined;
}

export async function findUserByUsername(db: Knex, username: string): Promise<UserRow | undefined> {
  const raw = await db<RawUser>('users').where({ username }).first();
  return raw ? toRow(raw) : undefined;
}

export async function listUsers(db: Knex, opts: { limit: number; cursor?: string }): Promise<Page<UserRow>> {
  return paginate(db('users').select('*'), 'id', opts, toRow);
}

export async function updateUser(db: Knex, id: string, changes: Partial<Pick<UserRow, 'passwordHash' | 'disabled' | 'updatedAt'>>): Promise<boolean> {
  const raw: Record<string, unknown> = {};
  if (changes.passwordHash !== undefined) raw.password_hash = changes.passwordHash;
  if (changes.disabled !== undefined) raw.disabled = changes.disabled;
  if (changes.updatedAt !== undefined) raw.updated_at = changes.updatedAt;
  return (await db('users').where({ id }).update(raw)) > 0;
}

export async function deleteUser(db: Knex, id: string): Promise<boolean> {
  return (await db('users').where({ id }).delete()) > 0;
}

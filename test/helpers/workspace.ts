/**
 * A throwaway working directory and a database that separate processes — the CLI, a spawned
 * server, an in-process test app — can all open: a SQLite file inside the directory, or a schema
 * of its own on PostgreSQL (test/helpers/test-database.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, onPostgres } from './test-database.js';

export interface Workspace {
  cwd: string;
  databaseUrl: string;
  /** Drops the database and deletes the directory. */
  remove(): Promise<void>;
}

export async function createWorkspace(name: string): Promise<Workspace> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `grantor-${name}-`));
  const db = onPostgres ? await createTestDatabase() : { url: `sqlite:${path.join(cwd, 'grantor.sqlite')}`, drop: async () => undefined };
  return {
    cwd,
    databaseUrl: db.url,
    async remove() {
      await db.drop();
      fs.rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` in a fresh workspace and removes it afterwards, whatever `fn` did. */
export async function inWorkspace<T>(name: string, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = await createWorkspace(name);
  try {
    return await fn(ws);
  } finally {
    await ws.remove();
  }
}

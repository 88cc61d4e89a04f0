/**
 * Builds a whole Grantor on in-memory SQLite (or a fresh PostgreSQL schema, see test-database.ts) with fresh keys in a temporary folder, listening on
 * loopback at a free port, and tears it down. Every e2e test talks to it over real HTTP, through
 * the same server factory as src/main.ts (src/http/server.ts: timeouts, connection cap). With
 * `env.OPS_PORT` set (`'0'`: a free port) the operations listener runs too, at `opsUrl`.
 */
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createOpsListener, createRequestListener } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildDeps, type Deps } from '../../src/deps.js';
import { createHttpServer } from '../../src/http/server.js';
import type { Clock } from '../../src/lib/clock.js';
import { createClient } from '../../src/registry/clients.js';
import { createResource } from '../../src/registry/resources.js';
import { createTestDatabase } from './test-database.js';

export interface TestApp {
  url: string;
  /** The operations listener's base URL, when `env.OPS_PORT` was given. */
  opsUrl: string | undefined;
  issuer: string;
  deps: Deps;
  /** Registers a confidential client straight in the registry; returns its credentials. */
  client(input?: Record<string, unknown>): Promise<{ client_id: string; client_secret: string }>;
  /** Registers a resource straight in the registry. */
  resource(input: Record<string, unknown>): Promise<{ id: string; identifier: string }>;
  /** An access token with scope `admin` for the admin API. */
  adminToken(): Promise<string>;
  /** POSTs a form to the token endpoint. */
  token(params: Record<string, string>, init?: { basic?: [string, string]; headers?: Record<string, string> }): Promise<JsonResponse>;
  /** fetch() against the app with an optional admin bearer token. */
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<JsonResponse>;
  close(): Promise<void>;
}

/** A fetch Response whose json() is typed loosely, for assertions. */
export type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse a keys folder (e.g. to restart on the same keys). */
  keysDir?: string;
  /** The app's logger (default: a silent one, or TEST_LOG_LEVEL). */
  logger?: Logger;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  // The issuer names the port, so the server listens before the whole config is read; its own
  // settings (timeouts, connection cap, TRUST_PROXY) come from the same environment.
  const serverSettings = loadConfig({ ...opts.env });
  const server = createHttpServer(serverSettings);
  const port = await listen(server, 0);
  const ops = serverSettings.ops ? createHttpServer(serverSettings) : undefined;
  const opsPort = ops ? await listen(ops, serverSettings.ops?.port ?? 0) : undefined;
  const issuer = `http://127.0.0.1:${port}`;
  const keysDir = opts.keysDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-keys-'));
  const database = opts.env?.DATABASE_URL ? undefined : await createTestDatabase();
  const config: Config = loadConfig({
    PORT: String(port),
    ISSUER: issuer,
    DATABASE_URL: database?.url ?? 'sqlite::memory:',
    KEYS_DIR: keysDir,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const deps = await buildDeps(config, { clock: opts.clock, logger: opts.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  server.on('request', createRequestListener(deps));
  ops?.on('request', createOpsListener(deps));
  const url = issuer;

  let adminCreds: { client_id: string; client_secret: string } | undefined;
  const testApp: TestApp = {
    url,
    opsUrl: ops ? `http://127.0.0.1:${opsPort}` : undefined,
    issuer,
    deps,
    async client(input = {}) {
      const created = await createClient(deps, { name: 'test client', ...input });
      return { client_id: created.client_id, client_secret: created.client_secret ?? '' };
    },
    async resource(input) {
      return createResource(deps, { name: 'test api', ...input });
    },
    async adminToken() {
      adminCreds ??= await testApp.client({ name: 'admin', scopes: ['admin'] });
      const res = await testApp.token({ grant_type: 'client_credentials', scope: 'admin' }, { basic: [adminCreds.client_id, adminCreds.client_secret] });
      const body = (await res.json()) as { access_token: string };
      return body.access_token;
    },
    async token(params, init = {}) {
      const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...init.headers };
      if (init.basic) {
        const [id, secret] = init.basic;
        headers.Authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
      }
      return fetch(`${url}/oauth/token`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    },
    async request(p, init = {}) {
      const { token, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('Content-Type', 'application/json');
      return fetch(`${url}${p}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
    async close() {
      for (const s of ops ? [server, ops] : [server]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await deps.close();
      await database?.drop();
      if (!opts.keysDir) fs.rmSync(keysDir, { recursive: true, force: true });
    },
  };
  return testApp;
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

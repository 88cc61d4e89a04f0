import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { runCliProcess, runProcess, startServerProcess, ROOT } from '../helpers/processes.js';

describe('zero-configuration start, the CLI bootstrap and shutdown', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-zero-'));
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('creates and migrates db/grantor.sqlite, an RSA key sealed under a secret kept in keys/ (mode 0600), and says where', async () => {
    const server = await startServerProcess({ cwd });
    try {
      expect(fs.existsSync(path.join(cwd, 'db/grantor.sqlite'))).toBe(true);
      const keyFiles = fs.readdirSync(path.join(cwd, 'keys'));
      expect(keyFiles).toEqual(['key-encryption.secret']);
      expect(fs.statSync(path.join(cwd, 'keys')).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(cwd, 'keys', keyFiles[0])).mode & 0o777).toBe(0o600);
      const startLine = JSON.parse(server.output().split('\n').find((l) => l.includes('Grantor listening'))!);
      expect(startLine).toMatchObject({
        database: `sqlite:${path.join(cwd, 'db/grantor.sqlite')}`,
        keysDir: path.join(cwd, 'keys'),
        keyGenerated: true,
        keyEncryption: path.join(cwd, 'keys/key-encryption.secret'),
      });
      // The private key is in the database, sealed: no PEM anywhere in it.
      const dbBytes = fs.readFileSync(path.join(cwd, 'db/grantor.sqlite')).toString('latin1') + (fs.existsSync(path.join(cwd, 'db/grantor.sqlite-wal')) ? fs.readFileSync(path.join(cwd, 'db/grantor.sqlite-wal')).toString('latin1') : '');
      expect(dbBytes).not.toContain('PRIVATE KEY');

      const port = new URL(server.url).port;
      const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
      expect(metadata.issuer).toBe(`http://localhost:${port}`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('bootstraps an admin from the CLI, then serves a verified token end to end', async () => {
    const server = await startServerProcess({ cwd });
    try {
      const port = new URL(server.url).port;
      const env = { PORT: port };
      const created = await runCliProcess(['clients', 'create', '--name', 'ops', '--scopes', 'admin', '--grant-types', 'client_credentials', '--json'], { cwd, env });
      expect(created.code).toBe(0);
      const ops = JSON.parse(created.stdout);
      expect(ops).toMatchObject({ client_id: expect.any(String), client_secret: expect.any(String) });

      const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      const tokenRes = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { Authorization: basic(ops.client_id, ops.client_secret), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=admin',
      });
      expect(tokenRes.status).toBe(200);
      const adminToken = (await tokenRes.json()).access_token;

      const resource = await fetch(`${server.url}/admin/resources`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ identifier: 'https://api.example.com', name: 'API', scopes: [{ name: 'read', description: 'Read' }] }),
      });
      expect(resource.status).toBe(201);
      const app = await (await fetch(`${server.url}/admin/clients`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'reporter', scopes: ['read'] }),
      })).json();

      const appToken = await (await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret, resource: 'https://api.example.com' }),
      })).json();
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(appToken.access_token, jwks, { issuer: `http://localhost:${port}`, audience: 'https://api.example.com', typ: 'at+jwt' });
      expect(payload.scope).toBe('read');

      const listed = await runCliProcess(['clients', 'list', '--json'], { cwd, env });
      expect(JSON.parse(listed.stdout).items.map((c: { name: string }) => c.name).sort()).toEqual(['ops', 'reporter']);

      // Secrets are never logged: not the client secrets, not the tokens.
      const log = server.output();
      expect(log).toContain('"path":"/oauth/token"');
      for (const secret of [ops.client_secret, app.client_secret, adminToken, appToken.access_token]) expect(log).not.toContain(secret);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('CLI: lists and revokes grants, and the running server honours it at once', async () => {
    const server = await startServerProcess({ cwd });
    try {
      const env = { PORT: new URL(server.url).port };
      await runCliProcess(['resources', 'create', '--identifier', 'https://cli.example.com', '--name', 'CLI API', '--scope', 'cli:read=Read'], { cwd, env });
      const app = JSON.parse((await runCliProcess(['clients', 'create', '--name', 'cli-app', '--scopes', 'cli:read', '--json'], { cwd, env })).stdout);
      const form = { grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret };
      const post = (path: string, body: Record<string, string>) =>
        fetch(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
      const { access_token } = await (await post('/oauth/token', form)).json();
      const introspect = async () => (await (await post('/oauth/introspect', { ...form, token: access_token })).json()).active;
      expect(await introspect()).toBe(true);

      const listed = JSON.parse((await runCliProcess(['grants', 'list', '--client-id', app.client_id, '--json'], { cwd, env })).stdout);
      expect(listed.items).toHaveLength(1);
      const grantId = listed.items[0].id;
      const revoked = await runCliProcess(['grants', 'revoke', grantId, '--reason', 'rotation drill', '--json'], { cwd, env });
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: grantId, status: 'revoked', revocation: { reason: 'rotation drill', revoked_by: expect.stringMatching(/^cli:/) } });
      expect(await introspect()).toBe(false);

      const feed = JSON.parse((await runCliProcess(['revocations', 'list', '--json'], { cwd, env })).stdout);
      expect(feed.items.map((r: { grant_id: string }) => r.grant_id)).toContain(grantId);

      // Servers notice changes made by another process (here the CLI) at their next change-epoch
      // poll, within 250 ms; then the client's next request makes a new standing grant.
      await new Promise((r) => setTimeout(r, 400));
      await post('/oauth/token', form);
      const many = await runCliProcess(['revocations', 'create', '--client-id', app.client_id, '--reason', 'offboarding', '--json'], { cwd, env });
      expect(JSON.parse(many.stdout)).toEqual({ revoked: 1 });
    } finally {
      await server.stop();
    }
  });

  it('WORKERS=2 runs two processes on one port that share keys and data, and stops cleanly on SIGTERM', async () => {
    const server = await startServerProcess({ cwd, env: { WORKERS: '2' } });
    try {
      const deadline = Date.now() + 10_000;
      while (server.output().split('Grantor listening').length - 1 < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const pids = new Set([...server.output().matchAll(/"pid":(\d+)[^\n]*Grantor listening/g)].map((m) => m[1]));
      expect(pids.size).toBe(2);
      const kids = new Set<string>();
      for (let i = 0; i < 6; i++) kids.add((await (await fetch(`${server.url}/.well-known/jwks.json`, { headers: { Connection: 'close' } })).json()).keys[0].kid);
      expect(kids.size).toBe(1);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('ships the resource-server module as the package subpath grantor/resource-server', async () => {
    const out = await runProcess(['--input-type=module', '-e', "const m = await import('grantor/resource-server'); console.log(Object.keys(m).sort().join(','))"], { cwd: ROOT });
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe('PROTECTED_RESOURCE_METADATA_SUFFIX,ResourceServerError,SESSION_REVOKED,VERIFICATION,createProtectedResourceMetadata,createVerifier,requireToken,revocationReceiver,serveProtectedResourceMetadata');
  });

  it('keeps its signing key across restarts', async () => {
    const kidOf = async (url: string) => (await (await fetch(`${url}/.well-known/jwks.json`)).json()).keys.map((k: { kid: string }) => k.kid);
    const first = await startServerProcess({ cwd });
    const kids = await kidOf(first.url);
    await first.stop();
    const second = await startServerProcess({ cwd });
    try {
      expect(await kidOf(second.url)).toEqual(kids);
      expect(second.output()).toContain('"keyGenerated":false');
    } finally {
      await second.stop();
    }
  });

  it('refuses bad configuration with a clear message naming the variable', async () => {
    const bad = await runProcess([path.join(ROOT, 'dist/src/main.js')], { cwd, env: { PORT: 'eighty', ISSUER: 'https://x.example.com/?q=1' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PORT');
    const badIssuer = await runProcess([path.join(ROOT, 'dist/src/main.js')], { cwd, env: { ISSUER: 'https://x.example.com/?q=1' } });
    expect(badIssuer.code).toBe(1);
    expect(badIssuer.stderr).toContain('ISSUER');
    const badDb = await runProcess([path.join(ROOT, 'dist/src/main.js')], { cwd, env: { DATABASE_URL: 'mysql://x' } });
    expect(badDb.code).toBe(1);
    expect(badDb.stderr).toContain('DATABASE_URL');
  });

  it('CLI: reports errors with a non-zero exit code and rotates secrets', async () => {
    const missing = await runCliProcess(['clients', 'get', 'nope'], { cwd });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('not_found');
    const invalid = await runCliProcess(['clients', 'create', '--name', 'x', '--redirect-uris', 'javascript:alert(1)'], { cwd });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('redirect_uris');
    const rotated = await runCliProcess(['clients', 'create', '--name', 'r', '--json'], { cwd });
    const { client_id, client_secret } = JSON.parse(rotated.stdout);
    const again = await runCliProcess(['clients', 'rotate-secret', client_id, '--json'], { cwd });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).client_secret).not.toBe(client_secret);
  });
});

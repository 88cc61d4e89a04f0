/**
 * Where private_key_jwt clients keep their keys (issue #12 item 2): registered in place through the
 * admin API and the CLI, published at a jwks_uri (fetched with the outbound rules, cached, refetched
 * at most once per cooldown on an unknown kid), or named in a Client ID Metadata Document.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fixedClock } from '../../src/lib/clock.js';
import { Person } from '../helpers/browserless.js';
import { API, delegatedFixture, obtainCode, redeem } from '../helpers/delegated.js';
import { assertionParams, clientAssertion, clientKey, type ClientKey } from '../helpers/client-assertion.js';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { runCliProcess } from '../helpers/processes.js';
import { inWorkspace } from '../helpers/workspace.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const NOW = 1_900_000_000;

describe('private_key_jwt keys', () => {
  let server: TestHttpsServer;
  const documents = new Map<string, () => { body: string; headers?: Record<string, string> }>();
  const serve = (p: string, answer: () => { body: string; headers?: Record<string, string> }) => {
    documents.set(p, answer);
    return `${server.origin}${p}`;
  };
  let app: TestApp;
  const clock = fixedClock(NOW);
  const ask = async (key: ClientKey, clientId: string) =>
    app.token({ grant_type: 'client_credentials', ...assertionParams(await clientAssertion(key, clientId, app.issuer, { now: clock.now() })) });

  beforeAll(async () => {
    server = await startHttpsServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      const doc = documents.get(new URL(req.url ?? '/', 'https://x').pathname)?.();
      res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json', ...doc?.headers });
      res.end(doc?.body ?? '');
    });
    app = await startTestApp({ clock, env: { OUTBOUND_ALLOWED_HOSTS: server.host } });
    await delegatedFixture(app);
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
  });
  afterAll(async () => {
    await app.close();
    await server.close();
  });

  describe('registered through the admin API', () => {
    const create = async (json: Record<string, unknown>) =>
      app.request('/admin/clients', { method: 'POST', token: await app.adminToken(), json: { name: 'signer', scopes: ['read'], ...json } });

    it('registers a private_key_jwt client without a secret and shows its method and keys', async () => {
      const key = await clientKey();
      const res = await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      expect(res.status).toBe(201);
      const body = await res.json();
      expect(body.client_secret).toBeUndefined();
      expect(body).toMatchObject({ type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      const secretClient = await (await create({})).json();
      expect(secretClient).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', client_secret: expect.any(String) });
    });

    it.each<[string, () => Promise<Record<string, unknown>>]>([
      ['a private key (d member)', async () => { const { privateKey } = await import('jose').then((j) => j.generateKeyPair('ES256', { extractable: true })); return { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [await (await import('jose')).exportJWK(privateKey)] } }; }],
      ['a symmetric key (kty oct)', async () => ({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })],
      ['a key that does not import (bad curve point)', async () => ({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] } })],
      ['both jwks and jwks_uri (RFC 7591 §2)', async () => ({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [(await clientKey()).publicJwk] }, jwks_uri: 'https://keys.example.com/jwks.json' })],
      ['private_key_jwt without keys', async () => ({ token_endpoint_auth_method: 'private_key_jwt' })],
      ['an http jwks_uri', async () => ({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://keys.example.com/jwks.json' })],
      ['keys for a secret client', async () => ({ jwks: { keys: [(await clientKey()).publicJwk] } })],
      ['private_key_jwt for a public client', async () => ({ type: 'public', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [(await clientKey()).publicJwk] } })],
    ])('refuses %s with 400 invalid_request', async (_name, input) => {
      const res = await create(await input());
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_request');
    });

    it('replaces the keys with PATCH: the old key stops working, the new one works; no secret to rotate', async () => {
      const [oldKey, newKey] = [await clientKey(), await clientKey()];
      const { client_id } = await (await create({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [oldKey.publicJwk] } })).json();
      expect((await ask(oldKey, client_id)).status).toBe(200);
      const patched = await app.request(`/admin/clients/${client_id}`, { method: 'PATCH', token: await app.adminToken(), json: { jwks: { keys: [newKey.publicJwk] } } });
      expect(patched.status).toBe(200);
      expect((await ask(oldKey, client_id)).status).toBe(401);
      expect((await ask(newKey, client_id)).status).toBe(200);
      const rotate = await app.request(`/admin/clients/${client_id}/secret`, { method: 'POST', token: await app.adminToken() });
      expect(rotate.status).toBe(400);
    });
  });

  describe('published at a jwks_uri', () => {
    it('fetches the set, keeps it as Cache-Control says, and refetches on an unknown kid at most once a minute', async () => {
      const [first, rotated, stranger, stranger2] = [await clientKey(), await clientKey(), await clientKey(), await clientKey()];
      let published = [first.publicJwk];
      const uri = serve('/signer/jwks.json', () => ({ body: JSON.stringify({ keys: published }), headers: { 'cache-control': 'max-age=3600' } }));
      const { client_id } = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: uri, scopes: ['read'] });
      expect((await ask(first, client_id)).status).toBe(200);
      expect((await ask(first, client_id)).status).toBe(200);
      expect(server.hits.get('/signer/jwks.json')).toBe(1);

      // The client rotates: an assertion with the new kid makes Grantor look again.
      published = [rotated.publicJwk];
      expect((await ask(rotated, client_id)).status).toBe(200);
      expect(server.hits.get('/signer/jwks.json')).toBe(2);

      // Made-up kids cannot make Grantor fetch on every request.
      expect((await ask(stranger, client_id)).status).toBe(401);
      expect((await ask(stranger2, client_id)).status).toBe(401);
      expect(server.hits.get('/signer/jwks.json')).toBe(2);
      clock.advance(61);
      expect((await ask(stranger, client_id)).status).toBe(401);
      expect(server.hits.get('/signer/jwks.json')).toBe(3);
    });

    it('refuses the client (invalid_client, never a 500) when the set cannot be had or is not a JWK Set', async () => {
      const key = await clientKey();
      const missing = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${server.origin}/nowhere.json`, scopes: ['read'] });
      const garbage = await app.client({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: serve('/garbage.json', () => ({ body: '{"keys": 5}' })), scopes: ['read'] });
      const privateSet = await app.client({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: serve('/private.json', () => ({ body: JSON.stringify({ keys: [{ ...key.publicJwk, d: 'AAAA' }] }) })),
        scopes: ['read'],
      });
      for (const c of [missing, garbage, privateSet]) {
        const res = await ask(key, c.client_id);
        expect(res.status).toBe(401);
        expect((await res.json()).error).toBe('invalid_client');
      }
    });

    it('fetches with the outbound rules: a loopback host not on OUTBOUND_ALLOWED_HOSTS is refused', async () => {
      const strict = await startTestApp({ clock });
      try {
        await strict.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
        const key = await clientKey();
        const uri = serve('/strict/jwks.json', () => ({ body: JSON.stringify({ keys: [key.publicJwk] }) }));
        const { client_id } = await strict.client({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: uri, scopes: ['read'] });
        const res = await strict.token({ grant_type: 'client_credentials', ...assertionParams(await clientAssertion(key, client_id, strict.issuer, { now: clock.now() })) });
        expect(res.status).toBe(401);
        expect(server.hits.get('/strict/jwks.json')).toBeUndefined();
      } finally {
        await strict.close();
      }
    });
  });

  describe('named in a Client ID Metadata Document', () => {
    it('accepts private_key_jwt with a jwks_uri: the app redeems its code with an assertion, not with its client_id alone', async () => {
      const photos = (await (await app.request('/admin/resources?limit=200', { token: await app.adminToken() })).json()).items.find((r: { identifier: string }) => r.identifier === API);
      await app.request(`/admin/resources/${photos.id}`, { method: 'PATCH', token: await app.adminToken(), json: { dynamic_client_scopes: ['photos:read'] } });
      const key = await clientKey();
      const jwksUri = serve('/agent/jwks.json', () => ({ body: JSON.stringify({ keys: [key.publicJwk] }) }));
      const clientId = serve('/agent/client.json', () => ({
        body: JSON.stringify({ client_id: `${server.origin}/agent/client.json`, client_name: 'Keyed agent', redirect_uris: ['https://app.example.com/callback'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri }),
      }));
      const person = new Person(app.url);
      const first = await obtainCode(person, clientId);
      const bare = await redeem(app, clientId, first.code, first.verifier);
      expect(bare.status).toBe(401);
      const second = await obtainCode(person, clientId);
      const res = await redeem(app, clientId, second.code, second.verifier, assertionParams(await clientAssertion(key, clientId, app.issuer, { now: clock.now() })));
      expect(res.status).toBe(200);
      expect((await res.json()).scope).toBe('photos:read');
    });

    it('accepts keys given in the document itself (jwks)', async () => {
      const key = await clientKey('EdDSA');
      const clientId = serve('/inline/client.json', () => ({
        body: JSON.stringify({ client_id: `${server.origin}/inline/client.json`, redirect_uris: ['https://app.example.com/callback'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }),
      }));
      const { code, verifier } = await obtainCode(new Person(app.url), clientId);
      const res = await redeem(app, clientId, code, verifier, assertionParams(await clientAssertion(key, clientId, app.issuer, { now: clock.now() })));
      expect(res.status).toBe(200);
    });

    it('still refuses a document that names private_key_jwt without keys', async () => {
      const clientId = serve('/keyless/client.json', () => ({
        body: JSON.stringify({ client_id: `${server.origin}/keyless/client.json`, redirect_uris: ['https://app.example.com/callback'], token_endpoint_auth_method: 'private_key_jwt' }),
      }));
      const res = await app.token({ grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.example.com/callback', client_id: clientId });
      expect(res.status).toBe(401);
    });
  });

  it('the CLI registers a private_key_jwt client from a JWK Set file (clients create --jwks-file) and points one at a jwks_uri', async () => {
    await inWorkspace('pkjwt', async ({ cwd, databaseUrl }) => {
      const cli = (args: string[]) => runCliProcess(args, { cwd, env: { DATABASE_URL: databaseUrl } });
      const key = await clientKey();
      fs.writeFileSync(path.join(cwd, 'jwks.json'), JSON.stringify({ keys: [key.publicJwk] }));
      const created = await cli(['clients', 'create', '--name', 'Signer', '--jwks-file', 'jwks.json', '--json']);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
      const client = JSON.parse(created.stdout);
      expect(client).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      expect(client.client_secret).toBeUndefined();
      const moved = await cli(['clients', 'update', client.client_id, '--jwks-uri', 'https://keys.example.com/jwks.json', '--json']);
      // Exit code and stderr first: a failed run then says why, not just that stdout was empty.
      expect({ code: moved.code, stderr: moved.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(moved.stdout)).toMatchObject({ jwks_uri: 'https://keys.example.com/jwks.json' });
      expect(JSON.parse(moved.stdout).jwks).toBeUndefined();
      const bad = await cli(['clients', 'create', '--name', 'Bad', '--jwks-file', 'missing.json']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/jwks-file/);
    });
  });
});

/**
 * OPS_PORT (regression, issue #10 item 11: /metrics, with key ids and error counts, was public on
 * the OAuth port): set, /metrics, /healthz and /readyz move to their own listener (OPS_HOST,
 * loopback by default) and the OAuth port answers 404 for them; unset, they stay on the OAuth port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';
import { freePort, startServerProcess } from '../helpers/processes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const OPS_PATHS = ['/metrics', '/healthz', '/readyz'];

describe('with OPS_PORT, operations endpoints have a listener of their own', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { OPS_PORT: '0' } });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  it.each(OPS_PATHS)('answers %s on the operations port and 404 on the OAuth port', async (p) => {
    expect((await fetch(`${app.opsUrl}${p}`)).status).toBe(200);
    const onOAuthPort = await app.request(p);
    expect(onOAuthPort.status).toBe(404);
    expect(await onOAuthPort.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });
  });

  it('counts the OAuth port\'s requests in the metrics it serves', async () => {
    const c = await app.client({ scopes: ['read'] });
    expect((await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [c.client_id, c.client_secret] })).status).toBe(200);
    const text = await (await fetch(`${app.opsUrl}/metrics`)).text();
    expect(text).toMatch(/grantor_tokens_issued_total\{grant_type="client_credentials"\} 1\b/);
  });

  it('serves nothing else on the operations port', async () => {
    for (const p of ['/.well-known/jwks.json', '/oauth/token', '/admin/clients', '/METRICS', '/metrics/']) {
      expect((await fetch(`${app.opsUrl}${p}`)).status).toBe(404);
    }
  });

  it('leaves the operations endpoints out of the OAuth port\'s OpenAPI document', async () => {
    const doc = await (await app.request('/openapi.json')).json();
    for (const p of OPS_PATHS) expect(doc.paths[p]).toBeUndefined();
    expect(doc.paths['/oauth/token']).toBeDefined();
  });
});

describe('OPS_PORT and OPS_HOST settings', () => {
  it('are off by default (operations stay on PORT) and bind loopback when set', () => {
    expect(loadConfig({}).ops).toBeUndefined();
    expect(loadConfig({ OPS_PORT: '9100' }).ops).toEqual({ port: 9100, host: '127.0.0.1' });
    expect(loadConfig({ OPS_PORT: '9100', OPS_HOST: '10.0.0.5' }).ops).toEqual({ port: 9100, host: '10.0.0.5' });
  });

  it('refuse OPS_PORT equal to PORT, naming it', () => {
    expect(() => loadConfig({ PORT: '3000', OPS_PORT: '3000' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '3000', OPS_PORT: '3000' })).toThrow(/OPS_PORT/);
  });
});

describe('the compiled server with OPS_PORT', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-ops-'));
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('serves operations on OPS_HOST:OPS_PORT with WORKERS=2, and 404 for them on PORT', async () => {
    const opsPort = await freePort();
    const server = await startServerProcess({ cwd, env: { OPS_PORT: String(opsPort), WORKERS: '2' } });
    try {
      expect(server.output()).toContain(`operations (/metrics, /healthz, /readyz) on http://127.0.0.1:${opsPort}`);
      for (let i = 0; i < 4; i++) expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`, { headers: { Connection: 'close' } })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${opsPort}/metrics`)).status).toBe(200);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${server.url}/.well-known/jwks.json`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

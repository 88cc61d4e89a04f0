import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('operations: health, readiness, metrics', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  it('answers /healthz and /readyz with the checks it made', async () => {
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, keys: true } });
  });

  it('counts tokens by grant type, errors by code, latency by route, revocations and key ages', async () => {
    const c = await app.client({ scopes: ['read'] });
    await app.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] });
    await app.token({ grant_type: 'client_credentials' }, { basic: [c.client_id, 'wrong'] });
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/grantor_tokens_issued_total\{grant_type="client_credentials"\} 1\b/);
    expect(text).toMatch(/grantor_oauth_errors_total\{error="invalid_client"\} 1\b/);
    expect(text).toMatch(/grantor_http_request_duration_seconds_count\{method="POST",route="\/oauth\/token",status="200"\} 1\b/);
    expect(text).toMatch(/grantor_revocations 0\b/);
    expect(text).toMatch(new RegExp(`grantor_signing_key_age_seconds\\{kid="${app.deps.keyRing.signingKey().kid}",state="active"\\} \\d+`));
    expect(text).toMatch(/grantor_process_cpu_seconds_total/);
    // Secrets never reach the metrics.
    expect(text).not.toContain(c.client_secret);
  });

  it('reports not ready (503) when the database is gone', async () => {
    const other = await startTestApp();
    await other.deps.db.destroy();
    const res = await other.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', checks: { database: false, keys: true } });
    await other.close().catch(() => undefined);
  });
});

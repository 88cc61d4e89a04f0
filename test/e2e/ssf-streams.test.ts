/**
 * Issue #13 item 1: Grantor as a Shared Signals transmitter — the configuration document (SSF 1.0
 * §7) and stream management (§8.1), authorized by access tokens with scope `ssf`.
 */
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { API_A, API_B, POLL, PUSH, SESSION_REVOKED, ssfWorld, VERIFICATION, type SsfWorld } from '../helpers/ssf.js';

describe('Shared Signals transmitter: configuration and streams', () => {
  let app: TestApp;
  let world: SsfWorld;
  let token: string;

  beforeAll(async () => {
    app = await startTestApp();
    world = await ssfWorld(app);
    token = await world.receiverToken();
  });
  afterAll(() => app.close());

  it('publishes its transmitter configuration at /.well-known/ssf-configuration (SSF 1.0 §7)', async () => {
    const res = await app.request('/.well-known/ssf-configuration');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      spec_version: '1_0',
      issuer: app.issuer,
      jwks_uri: `${app.issuer}/.well-known/jwks.json`,
      delivery_methods_supported: [PUSH, POLL],
      configuration_endpoint: `${app.issuer}/ssf/streams`,
      status_endpoint: `${app.issuer}/ssf/status`,
      verification_endpoint: `${app.issuer}/ssf/verify`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
      default_subjects: 'ALL',
    });
  });

  it('creates a poll stream and names its poll URL (SSF 1.0 §8.1.1.1)', async () => {
    const res = await app.request('/ssf/streams', { method: 'POST', token, json: { delivery: { method: POLL }, aud: API_A, description: 'api a' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const s = await res.json();
    expect(s).toEqual({
      stream_id: expect.any(String),
      iss: app.issuer,
      aud: API_A,
      events_supported: [SESSION_REVOKED, VERIFICATION],
      events_requested: [SESSION_REVOKED, VERIFICATION],
      events_delivered: [SESSION_REVOKED, VERIFICATION],
      delivery: { method: POLL, endpoint_url: `${app.issuer}/ssf/streams/${s.stream_id}/poll` },
      description: 'api a',
    });
  });

  it('delivers the intersection of the requested and supported events, and an array aud as an array', async () => {
    const s = await world.createStream(token, { delivery: { method: POLL }, aud: [API_A, API_B], events_requested: [SESSION_REVOKED, 'https://example.com/unknown'] });
    expect(s.aud).toEqual([API_A, API_B]);
    expect(s.events_requested).toEqual([SESSION_REVOKED, 'https://example.com/unknown']);
    expect(s.events_delivered).toEqual([SESSION_REVOKED]);
  });

  it('reads one stream, lists the caller\'s, changes (PATCH), replaces (PUT) and deletes it', async () => {
    const s = await world.createStream(token, { delivery: { method: POLL }, aud: API_A });
    const one = await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { token });
    expect(one.status).toBe(200);
    expect((await one.json()).stream_id).toBe(s.stream_id);
    const all = await (await app.request('/ssf/streams', { token })).json();
    expect(all.map((x: { stream_id: string }) => x.stream_id)).toContain(s.stream_id);

    const patched = await app.request('/ssf/streams', { method: 'PATCH', token, json: { stream_id: s.stream_id, description: 'changed', aud: [API_B] } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ description: 'changed', aud: API_B, events_delivered: [SESSION_REVOKED, VERIFICATION] });

    const replaced = await app.request('/ssf/streams', { method: 'PUT', token, json: { stream_id: s.stream_id, delivery: { method: POLL }, aud: API_A, events_requested: [VERIFICATION] } });
    expect(replaced.status).toBe(200);
    const r = await replaced.json();
    expect(r).toMatchObject({ aud: API_A, events_delivered: [VERIFICATION] });
    expect(r.description).toBeUndefined();

    expect((await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { method: 'DELETE', token })).status).toBe(204);
    expect((await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { token })).status).toBe(404);
    expect((await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { method: 'DELETE', token })).status).toBe(404);
  });

  it('reads and changes a stream\'s status (SSF 1.0 §8.1.2)', async () => {
    const s = await world.createStream(token, { delivery: { method: POLL }, aud: API_A });
    expect(await (await app.request(`/ssf/status?stream_id=${s.stream_id}`, { token })).json()).toEqual({ stream_id: s.stream_id, status: 'enabled' });
    const res = await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: s.stream_id, status: 'paused', reason: 'maintenance' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    expect(await (await app.request(`/ssf/status?stream_id=${s.stream_id}`, { token })).json()).toEqual({ stream_id: s.stream_id, status: 'paused', reason: 'maintenance' });
    expect((await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: s.stream_id, status: 'asleep' } })).status).toBe(400);
  });

  it('accepts a verification request with 204 (SSF 1.0 §8.1.4.2)', async () => {
    const s = await world.createStream(token, { delivery: { method: POLL }, aud: API_A });
    expect((await app.request('/ssf/verify', { method: 'POST', token, json: { stream_id: s.stream_id, state: 'abc' } })).status).toBe(204);
    expect((await app.request('/ssf/verify', { method: 'POST', token, json: { stream_id: 'nope' } })).status).toBe(404);
  });

  it('answers 429 to verification requests while 10 wait undelivered on the stream (SSF 1.0 §8.1.4.2)', async () => {
    const s = await world.createStream(token, { delivery: { method: POLL }, aud: API_A });
    for (let i = 0; i < 10; i++) expect((await app.request('/ssf/verify', { method: 'POST', token, json: { stream_id: s.stream_id } })).status).toBe(204);
    const res = await app.request('/ssf/verify', { method: 'POST', token, json: { stream_id: s.stream_id } });
    expect(res.status).toBe(429);
    expect(Number(((await app.deps.db('ssf_events').where({ stream_id: s.stream_id }).count({ n: '*' }).first()) as { n: number | string }).n)).toBe(10);
  });

  describe('authorization', () => {
    it('answers 401 with a Bearer challenge without a token (RFC 6750 §3)', async () => {
      const res = await app.request('/ssf/streams');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="grantor-ssf"');
    });

    it('answers 403 insufficient_scope for a token without `ssf` (the admin token)', async () => {
      const res = await app.request('/ssf/streams', { token: await app.adminToken() });
      expect(res.status).toBe(403);
      expect((await res.json()).error).toBe('insufficient_scope');
      expect(res.headers.get('www-authenticate')).toContain('scope="ssf"');
    });

    it('refuses a revoked token at once (401 invalid_token)', async () => {
      // A client of its own: client_credentials tokens of one client share one standing grant.
      const t = await world.receiverToken(await app.client({ name: 'short-lived rs', scopes: ['ssf'] }));
      expect((await app.request('/ssf/streams', { token: t })).status).toBe(200);
      const grantId = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).grant_id;
      await world.revoke(grantId);
      const res = await app.request('/ssf/streams', { token: t });
      expect(res.status).toBe(401);
      expect((await res.json()).error).toBe('invalid_token');
    });

    it('answers 404 for another client\'s stream, for every operation', async () => {
      const s = await world.createStream(await world.receiverToken(), { delivery: { method: POLL }, aud: API_A });
      const other = await app.client({ name: 'other rs', scopes: ['ssf'] });
      const t = await world.receiverToken(other);
      expect((await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { token: t })).status).toBe(404);
      expect((await app.request('/ssf/streams', { method: 'PATCH', token: t, json: { stream_id: s.stream_id, description: 'x' } })).status).toBe(404);
      expect((await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { method: 'DELETE', token: t })).status).toBe(404);
      expect((await app.request(`/ssf/status?stream_id=${s.stream_id}`, { token: t })).status).toBe(404);
      expect((await app.request('/ssf/verify', { method: 'POST', token: t, json: { stream_id: s.stream_id } })).status).toBe(404);
      expect((await world.poll(t, s.stream_id)).status).toBe(404);
      expect(await (await app.request('/ssf/streams', { token: t })).json()).toEqual([]);
    });

    it('lets an admin allow a client the `ssf` scope through the admin API', async () => {
      const admin = await app.adminToken();
      const c = await app.request('/admin/clients', { method: 'POST', token: admin, json: { name: 'rs', scopes: ['ssf'] } });
      expect(c.status).toBe(201);
      const created = await c.json();
      expect(created.scopes).toEqual(['ssf']);
      const t = await world.receiverToken(created);
      expect((await app.request('/ssf/streams', { token: t })).status).toBe(200);
    });
  });

  describe('hostile input (400, never 500, nothing stored)', () => {
    const count = async () => ((await (await app.request('/ssf/streams', { token })).json()) as unknown[]).length;

    it.each([
      ['malformed JSON', '{"delivery":', 'application/json', 400],
      ['a form body', 'delivery=x', 'application/x-www-form-urlencoded', 415],
    ])('refuses %s', async (_what, body, type, status) => {
      const before = await count();
      const res = await app.request('/ssf/streams', { method: 'POST', token, body, headers: { 'Content-Type': type } });
      expect(res.status).toBe(status);
      expect((await res.json()).error).toBe('invalid_request');
      expect(await count()).toBe(before);
    });

    it('refuses an oversized body with 413', async () => {
      const res = await app.request('/ssf/streams', { method: 'POST', token, json: { delivery: { method: POLL }, aud: API_A, description: 'x'.repeat(200_000) } });
      expect(res.status).toBe(413);
    });

    it.each([
      ['an unknown delivery method', { delivery: { method: 'urn:example:carrier-pigeon' }, aud: API_A }],
      ['no delivery', { aud: API_A }],
      ['no aud', { delivery: { method: POLL } }],
      ['an aud naming no resource', { delivery: { method: POLL }, aud: 'https://unknown.example.com' }],
      ['an aud that is not a URI', { delivery: { method: POLL }, aud: 'not a uri' }],
      ['the admin API as aud', { delivery: { method: POLL }, aud: 'ADMIN' }],
      ['a push stream without endpoint_url', { delivery: { method: PUSH }, aud: API_A }],
      ['a control character in the description', { delivery: { method: POLL }, aud: API_A, description: 'a\r\nb' }],
      ['an array body', [1, 2]],
    ])('refuses %s with invalid_request', async (_what, json) => {
      const before = await count();
      const body = JSON.parse(JSON.stringify(json).replace('"ADMIN"', JSON.stringify(`${app.issuer}/admin`)));
      const res = await app.request('/ssf/streams', { method: 'POST', token, json: body });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_request');
      expect(await count()).toBe(before);
    });

    it.each([
      ['an http URL', 'http://receiver.example.com/events'],
      ['a loopback address', 'https://127.0.0.1/events'],
      ['localhost (resolves to loopback)', 'https://localhost:8443/events'],
      ['the cloud metadata address', 'https://169.254.169.254/latest'],
      ['a private address', 'https://10.1.2.3/events'],
      ['an IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/events'],
      ['credentials in the URL', 'https://user:pw@receiver.example.com/events'],
      ['not a URL', 'receiver'],
    ])('refuses a push endpoint at %s at creation (400)', async (_what, endpoint_url) => {
      const before = await count();
      const res = await app.request('/ssf/streams', { method: 'POST', token, json: { delivery: { method: PUSH, endpoint_url }, aud: API_A } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('endpoint_url') });
      expect(await count()).toBe(before);
    });

    it.each([
      ['an unknown stream_id', 'does-not-exist'],
      ['an SQL-looking stream_id', "' OR 1=1 --"],
      ['a path-looking stream_id', '../../admin'],
    ])('answers 404 for %s', async (_what, id) => {
      expect((await app.request(`/ssf/streams?stream_id=${encodeURIComponent(id)}`, { token })).status).toBe(404);
      expect((await app.request(`/ssf/status?stream_id=${encodeURIComponent(id)}`, { token })).status).toBe(404);
    });

    it('refuses DELETE and status reads without stream_id (400)', async () => {
      expect((await app.request('/ssf/streams', { method: 'DELETE', token })).status).toBe(400);
      expect((await app.request('/ssf/status', { token })).status).toBe(400);
    });
  });

  it('caps the streams of one client (SSF_MAX_STREAMS_PER_CLIENT) with 409', async () => {
    const capped = await startTestApp({ env: { SSF_MAX_STREAMS_PER_CLIENT: '2' } });
    try {
      const w = await ssfWorld(capped);
      const t = await w.receiverToken();
      await w.createStream(t, { delivery: { method: POLL }, aud: API_A });
      await w.createStream(t, { delivery: { method: POLL }, aud: API_A });
      const res = await capped.request('/ssf/streams', { method: 'POST', token: t, json: { delivery: { method: POLL }, aud: API_A } });
      expect(res.status).toBe(409);
      expect((await res.json()).error).toBe('conflict');
    } finally {
      await capped.close();
    }
  });

  it('deletes a client\'s streams with the client', async () => {
    const rs = await app.client({ name: 'doomed rs', scopes: ['ssf'] });
    const s = await world.createStream(await world.receiverToken(rs), { delivery: { method: POLL }, aud: API_A });
    const admin = await app.adminToken();
    expect((await app.request(`/admin/clients/${rs.client_id}`, { method: 'DELETE', token: admin })).status).toBe(204);
    expect(await app.deps.db('ssf_streams').where({ id: s.stream_id }).first()).toBeUndefined();
  });
});

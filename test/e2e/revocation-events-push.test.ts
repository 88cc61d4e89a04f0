/**
 * Issue #13 item 3, push delivery (RFC 8935): the module creates a stream that pushes to the
 * app's receiver endpoint with a secret Authorization header, checks the stream with verification
 * events (SSF 1.0 §8.1.4), answers 202 for a SET it applied and 400 `{err, description}` for one it
 * refused; a revoked grant's token is refused as soon as the push is answered.
 */
import http from 'node:http';
import { generateKeyPair } from 'jose';
import Koa from 'koa';
import { createVerifier, revocationReceiver, type Verifier } from '../../src/resource-server/index.js';
import { outcome, sleep, until } from '../helpers/eventually.js';
import { CLIENT, SESSION_REVOKED, startFakeTransmitter, type FakeStream, type FakeTransmitter } from '../helpers/fake-ssf-transmitter.js';

const API = 'https://api.example.com';
const realNow = () => Math.floor(Date.now() / 1000);



/** A koa API on loopback whose receiver is mounted once the verifier exists (its URL is needed first). */
async function startApi(): Promise<{ url: string; mount(verifier: Verifier): void; close(): Promise<void> }> {
  const app = new Koa();
  let receiver: ReturnType<typeof revocationReceiver> | undefined;
  app.use((ctx, next) => (receiver ? receiver(ctx, next) : next()));
  app.use((ctx) => {
    ctx.body = { fallthrough: true };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    mount: (verifier) => void (receiver = revocationReceiver(verifier)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('revocation events by push (RFC 8935) through the koa receiver', () => {
  let fake: FakeTransmitter;
  let api: Awaited<ReturnType<typeof startApi>>;
  let verifier: Verifier;
  let logs: string[];

  const start = (extra: { verificationTimeout?: number; verificationInterval?: number; streamId?: string } = {}) => {
    logs = [];
    verifier = createVerifier({
      issuer: fake.url,
      audience: API,
      revocationEvents: { credentials: CLIENT, delivery: 'push', pushEndpointUrl: `${api.url}/ssf/events`, logger: (line) => logs.push(line), retryDelay: { min: 20, max: 50 }, ...extra },
    });
    api.mount(verifier);
  };
  const push = (body: string, headers: Record<string, string>) => fetch(`${api.url}/ssf/events`, { method: 'POST', headers, body });
  const stream = (): FakeStream => fake.stream();
  const genuine = () => ({ 'Content-Type': 'application/secevent+jwt', Authorization: stream().delivery.authorization_header! });

  beforeEach(async () => {
    fake = await startFakeTransmitter();
    api = await startApi();
  });
  afterEach(async () => {
    await verifier?.close();
    await api.close();
    await fake.close();
  });

  it('creates a push stream to its endpoint with a secret Authorization header, and is healthy once the verification event arrives (SSF 1.0 §8.1.4.2)', async () => {
    start();
    // The verifier is healthy as it applies the verification SET, a moment before the transmitter
    // has read the 202 of that push: wait for both.
    await until(() => verifier.revocationState().channel === 'stream' && stream().pushes.length > 0, 'verified, and the push answered');
    expect(stream().configurations[0]).toMatchObject({
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${api.url}/ssf/events`, authorization_header: expect.stringMatching(/^Bearer [A-Za-z0-9_-]{43}$/) },
      aud: API,
    });
    expect(fake.requests).toContain('POST /ssf/verify');
    expect(stream().pushes).toEqual([{ jti: expect.any(String), status: 202, body: '' }]);
    expect(verifier.revocationState()).toMatchObject({ channel: 'stream', delivery: 'push', streamId: stream().id });
    expect(logs).toEqual([expect.stringMatching(/receiving on stream stream-\d+ \(push\)/)]);
  });

  it('answers 202 to a pushed session-revoked SET and refuses the grant’s tokens from then on', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const token = await fake.accessToken(API, 'grant-1', 1);
    const other = await fake.accessToken(API, 'grant-2', 2);
    expect(await outcome(verifier, token)).toBe('ok');
    const [jti] = await fake.revoke('grant-1');
    expect(stream().pushes.find((p) => p.jti === jti)).toEqual({ jti, status: 202, body: '' });
    expect(await outcome(verifier, token)).toBe('invalid_token: the token’s grant is revoked');
    expect(await outcome(verifier, other)).toBe('ok');
  });

  const forgeries: Array<[string, (f: FakeTransmitter, s: FakeStream) => Promise<{ jws: string }>, string]> = [
    ['typ JWT instead of secevent+jwt', (f, s) => f.signSet(s.aud, revokes(), sub(), { header: { typ: 'JWT' } }), 'invalid_request'],
    ['another issuer', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { iss: 'https://evil.example.com' } }), 'invalid_issuer'],
    ['another audience', (f) => f.signSet('https://other.example.com', revokes(), sub()), 'invalid_audience'],
    ['a foreign key under the real kid', async (f, s) => f.signSet(s.aud, revokes(), sub(), { key: (await generateKeyPair('RS256')).privateKey }), 'invalid_key'],
    ['alg PS256', async (f, s) => f.signSet(s.aud, revokes(), sub(), { alg: 'PS256', key: (await generateKeyPair('PS256')).privateKey }), 'invalid_key'],
    ['no iat', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { iat: undefined } }), 'invalid_request'],
    ['an iat an hour ahead', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { iat: realNow() + 3600 } }), 'invalid_request'],
    ['no jti', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { jti: undefined } }), 'invalid_request'],
    ['two events', (f, s) => f.signSet(s.aud, { ...revokes(), 'https://example.com/other': {} }, sub()), 'invalid_request'],
    ['not a JWS', async () => ({ jws: 'hello' }), 'invalid_request'],
  ];
  function revokes() {
    return { [SESSION_REVOKED]: { event_timestamp: realNow(), initiating_entity: 'admin' } };
  }
  function sub() {
    return { format: 'opaque', id: 'grant-x' };
  }

  it.each(forgeries)('answers 400 and applies nothing for a SET with %s (RFC 8935 §2.3)', async (_name, forge, err) => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const token = await fake.accessToken(API, 'grant-x', 3);
    const res = await push((await forge(fake, stream())).jws, genuine());
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ err, description: expect.any(String) });
    expect(await outcome(verifier, token)).toBe('ok');
  });

  it('answers 401 authentication_failed without the stream’s Authorization (an HTTP-level failure the transmitter retries), and applies nothing', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const set = await fake.signSet(stream().aud, revokes(), sub());
    for (const authorization of [undefined, 'Bearer wrong', `${stream().delivery.authorization_header}x`]) {
      const res = await push(set.jws, { 'Content-Type': 'application/secevent+jwt', ...(authorization ? { Authorization: authorization } : {}) });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({ err: 'authentication_failed', description: expect.any(String) });
    }
    expect(await outcome(verifier, await fake.accessToken(API, 'grant-x', 3))).toBe('ok');
  });

  it('answers 400 invalid_request to another Content-Type, 405 to GET, and passes other paths on', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const set = await fake.signSet(stream().aud, revokes(), sub());
    const res = await push(set.jws, { ...genuine(), 'Content-Type': 'application/json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ err: 'invalid_request' });
    const get = await fetch(`${api.url}/ssf/events`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await (await fetch(`${api.url}/elsewhere`, { method: 'POST' })).json()).toEqual({ fallthrough: true });
  });

  it('takes pushes through the plain receiveSet() as well (other frameworks)', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const token = await fake.accessToken(API, 'grant-7', 7);
    const bad = await verifier.receiveSet((await fake.signSet('https://other.example.com', revokes(), sub())).jws, genuine());
    expect(bad).toEqual({ status: 400, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: expect.any(String) });
    expect(JSON.parse(bad.body)).toMatchObject({ err: 'invalid_audience' });
    const set = await fake.signSet(stream().aud, { [SESSION_REVOKED]: { event_timestamp: realNow() } }, { format: 'opaque', id: 'grant-7' });
    const headers = new Headers(genuine());
    expect(await verifier.receiveSet(Buffer.from(set.jws), headers)).toEqual({ status: 202, headers: {}, body: '' });
    expect(await outcome(verifier, token)).toBe('invalid_token: the token’s grant is revoked');
  });

  it('reuses a pushed stream by streamId, giving it this process’s new secret (PATCH, SSF 1.0 §8.1.1.3)', async () => {
    start({ streamId: 'first-start' });
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const { streamId } = verifier.revocationState();
    const oldSecret = stream().delivery.authorization_header!;
    await verifier.close();
    start({ streamId });
    await until(() => stream().configurations.length === 2, 'patched');
    expect(stream().configurations[1]).toEqual({ stream_id: streamId, delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${api.url}/ssf/events`, authorization_header: expect.any(String) } });
    expect(stream().delivery.authorization_header).not.toBe(oldSecret);
    await until(() => verifier.revocationState().channel === 'stream', 'verified');
    const set = await fake.signSet(stream().aud, revokes(), sub());
    expect((await push(set.jws, { 'Content-Type': 'application/secevent+jwt', Authorization: oldSecret })).status).toBe(401);
  });

  it('falls back to the status list (one log line) when no verification event comes back, and recovers when one does', async () => {
    fake.dropVerifications = true;
    start({ verificationTimeout: 200, verificationInterval: 100 });
    await until(() => logs.length > 0, 'a log line');
    expect(verifier.revocationState()).toMatchObject({ channel: 'status-list-only', lastError: 'no verification event arrived', streamId: stream().id });
    expect(logs).toEqual([expect.stringMatching(/falling back to the status list alone \(no verification event arrived\)/)]);
    fake.dropVerifications = false;
    await until(() => verifier.revocationState().channel === 'stream', 'recovered');
    expect(logs).toHaveLength(2);
  });
});

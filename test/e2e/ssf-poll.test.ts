/**
 * Issue #13: grant revocations delivered as Security Event Tokens (RFC 8417) by polling (RFC
 * 8936), consumed by a receiver written with jose only — any language can do the same.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { API_A, API_B, POLL, SESSION_REVOKED, ssfWorld, verifySet, VERIFICATION, type SsfWorld } from '../helpers/ssf.js';

const PRINT = 'https://print.example.com';

describe('Shared Signals: revocations by poll (RFC 8936)', () => {
  let app: TestApp;
  let world: SsfWorld;
  let token: string;

  beforeAll(async () => {
    // The database is looked at once a minute only: on one instance, a revocation reaches a held
    // poll through the in-process wake-up, without waiting for a timer.
    app = await startTestApp({ env: { SSF_MAX_STREAMS_PER_CLIENT: '100', SSF_CHECK_INTERVAL: '60000' } });
    world = await ssfWorld(app);
    token = await world.receiverToken();
  });
  afterAll(() => app.close());

  const pollStream = async (aud: string | string[] = API_A) => (await world.createStream(token, { delivery: { method: POLL }, aud })).stream_id;

  it('delivers a revoked grant as a CAEP session-revoked SET that a jose-only receiver verifies against the JWKS', async () => {
    const streamId = await pollStream();
    const { grantId } = await world.grantOn(API_A);
    await world.revoke(grantId, 'laptop stolen');

    const { status, body } = await world.poll(token, streamId);
    expect(status).toBe(200);
    const jtis = Object.keys(body.sets);
    expect(jtis).toHaveLength(1);
    const set = body.sets[jtis[0]];
    // RFC 8417 §2.3 / SSF 1.0 §4.1: explicit typing, Grantor's keys.
    expect(decodeProtectedHeader(set)).toEqual({ alg: 'RS256', typ: 'secevent+jwt', kid: expect.any(String) });
    const claims = await verifySet(app.issuer, set, API_A);
    expect(claims).toEqual({
      iss: app.issuer,
      aud: API_A,
      jti: jtis[0],
      iat: expect.any(Number),
      sub_id: { format: 'opaque', id: grantId },
      events: {
        [SESSION_REVOKED]: {
          event_timestamp: expect.any(Number),
          initiating_entity: 'admin',
          reason_admin: { en: 'laptop stolen' },
          client_id: world.backend.client_id,
          resource: [API_A],
        },
      },
    });
    // The subject is the grant_id claim of every access token issued under the grant.
    expect(body.moreAvailable).toBe(false);
  });

  it('sends a stream only the revocations of grants for its audience', async () => {
    const onA = await pollStream(API_A);
    const onB = await pollStream(API_B);
    const { grantId } = await world.grantOn(API_B);
    await world.revoke(grantId);
    const a = await world.poll(token, onA);
    expect(Object.values(a.body.sets).map((s) => (decodeJwt(s as string).sub_id as { id: string }).id)).not.toContain(grantId);
    const b = await world.poll(token, onB);
    expect(Object.values(b.body.sets).map((s) => (decodeJwt(s as string).sub_id as { id: string }).id)).toEqual([grantId]);
  });

  it('sends an event for each grant derived by token exchange (RFC 8693) revoked with its parent', async () => {
    const printer = await app.client({ name: 'printer', scopes: ['a:read'] });
    await app.resource({ identifier: PRINT, name: 'Print', scopes: [{ name: 'a:read' }], token_exchange_clients: [printer.client_id] });
    const streamId = await pollStream([API_A, PRINT]);
    const parent = await world.grantOn(API_A);
    const exchanged = await app.token(
      { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', subject_token: parent.token, resource: PRINT },
      { basic: [printer.client_id, printer.client_secret] },
    );
    expect(exchanged.status).toBe(200);
    const childGrant = decodeJwt((await exchanged.json()).access_token).grant_id as string;
    await world.revoke(parent.grantId, 'parent gone');

    const { body } = await world.poll(token, streamId);
    const events = await Promise.all(Object.values(body.sets).map((s) => verifySet(app.issuer, s as string, API_A)));
    const bySubject = new Map(events.map((e) => [e.sub_id.id, e.events[SESSION_REVOKED]]));
    expect([...bySubject.keys()].sort()).toEqual([parent.grantId, childGrant].sort());
    expect(bySubject.get(childGrant)).toMatchObject({ resource: [PRINT], client_id: printer.client_id, reason_admin: { en: 'parent grant revoked: parent gone' } });
  });

  it('delivers an unacknowledged SET again, and an acknowledged one never again (RFC 8936 §2.4.2)', async () => {
    const streamId = await pollStream();
    await world.revoke((await world.grantOn(API_A)).grantId);
    const first = await world.poll(token, streamId);
    const [jti] = Object.keys(first.body.sets);
    const again = await world.poll(token, streamId);
    expect(Object.keys(again.body.sets)).toEqual([jti]);
    const acked = await world.poll(token, streamId, { ack: [jti], returnImmediately: true });
    expect(acked.body).toEqual({ sets: {} });
    expect((await world.poll(token, streamId)).body).toEqual({ sets: {} });
  });

  it('acknowledges only the caller\'s own stream\'s jtis: another stream\'s jti is ignored', async () => {
    const mine = await pollStream();
    const other = await app.client({ name: 'other rs', scopes: ['ssf'] });
    const otherToken = await world.receiverToken(other);
    const theirs = (await world.createStream(otherToken, { delivery: { method: POLL }, aud: API_A })).stream_id;
    await world.revoke((await world.grantOn(API_A)).grantId);
    const [theirJti] = Object.keys((await world.poll(otherToken, theirs)).body.sets);
    // Acking their jti on my stream (and on their stream id with my token) removes nothing.
    await world.poll(token, mine, { ack: [theirJti, 'unknown-jti'], returnImmediately: true });
    expect((await world.poll(token, theirs, { ack: [theirJti] })).status).toBe(404);
    expect(Object.keys((await world.poll(otherToken, theirs)).body.sets)).toEqual([theirJti]);
  });

  it('takes repeated and raced acknowledgements of one jti without error', async () => {
    const streamId = await pollStream();
    await world.revoke((await world.grantOn(API_A)).grantId);
    const [jti] = Object.keys((await world.poll(token, streamId)).body.sets);
    const answers = await Promise.all(Array.from({ length: 5 }, () => world.poll(token, streamId, { ack: [jti, jti], returnImmediately: true })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await world.poll(token, streamId)).body).toEqual({ sets: {} });
  });

  it('caps maxEvents at 100 and says moreAvailable; maxEvents 0 acknowledges only', async () => {
    const streamId = await pollStream();
    for (let i = 0; i < 3; i++) await world.revoke((await world.grantOn(API_A)).grantId);
    const two = await world.poll(token, streamId, { maxEvents: 2, returnImmediately: true });
    expect(Object.keys(two.body.sets)).toHaveLength(2);
    expect(two.body.moreAvailable).toBe(true);
    const huge = await world.poll(token, streamId, { maxEvents: 1e15, returnImmediately: true });
    expect(huge.status).toBe(200);
    expect(Object.keys(huge.body.sets)).toHaveLength(3);
    const zero = await world.poll(token, streamId, { maxEvents: 0, ack: Object.keys(huge.body.sets) });
    expect(zero.body).toEqual({ sets: {} });
    expect((await world.poll(token, streamId)).body).toEqual({ sets: {} });
  });

  it.each([
    ['a negative maxEvents', { maxEvents: -1 }],
    ['a string maxEvents', { maxEvents: '10' }],
    ['ack not an array', { ack: 'abc' }],
    ['returnImmediately not a boolean', { returnImmediately: 'yes' }],
  ])('refuses %s with 400 invalid_request', async (_what, body) => {
    const streamId = await pollStream();
    const res = await world.poll(token, streamId, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses malformed JSON on the poll endpoint with 400', async () => {
    const streamId = await pollStream();
    const res = await app.request(`/ssf/streams/${streamId}/poll`, { method: 'POST', token, body: '{"ack":[', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(400);
  });

  it('answers a held long poll as soon as a revocation is committed (not at the timeout)', async () => {
    const streamId = await pollStream();
    const { grantId } = await world.grantOn(API_A);
    // SSF_LONG_POLL_TIMEOUT is 30 s: an answer carrying the event came from the revocation.
    const held = world.poll(token, streamId, {});
    await new Promise((r) => setTimeout(r, 200));
    await world.revoke(grantId);
    const { body } = await held;
    expect(Object.values(body.sets).map((s) => (decodeJwt(s as string).sub_id as { id: string }).id)).toEqual([grantId]);
  }, 25_000);

  it('delivers a verification event on request, with the stream as subject and the state (SSF 1.0 §8.1.4)', async () => {
    const streamId = await pollStream();
    const held = world.poll(token, streamId, {});
    await app.request('/ssf/verify', { method: 'POST', token, json: { stream_id: streamId, state: 'VGhpcyBpcyBhbiBleGFtcGxl' } });
    const { body } = await held;
    const [set] = Object.values(body.sets) as string[];
    const claims = await verifySet(app.issuer, set, API_A);
    expect(claims.sub_id).toEqual({ format: 'opaque', id: streamId });
    expect(claims.events).toEqual({ [VERIFICATION]: { state: 'VGhpcyBpcyBhbiBleGFtcGxl' } });
  }, 25_000);

  it('holds events of a paused stream until it is enabled; a disabled stream gets none', async () => {
    const paused = await pollStream();
    const disabled = await pollStream();
    await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: paused, status: 'paused' } });
    await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: disabled, status: 'disabled' } });
    const { grantId } = await world.grantOn(API_A);
    await world.revoke(grantId);
    expect((await world.poll(token, paused)).body).toEqual({ sets: {} });
    expect((await world.poll(token, disabled)).body).toEqual({ sets: {} });
    await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: paused, status: 'enabled' } });
    await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: disabled, status: 'enabled' } });
    expect(Object.values((await world.poll(token, paused)).body.sets).map((s) => (decodeJwt(s as string).sub_id as { id: string }).id)).toEqual([grantId]);
    expect((await world.poll(token, disabled)).body).toEqual({ sets: {} });
  });

  it('refuses to poll a push stream (400)', async () => {
    const rows = await app.deps.db('ssf_streams').insert({ id: 'push-stream', client_id: world.receiver.client_id, aud: JSON.stringify([API_A]), delivery_method: 'urn:ietf:rfc:8935', endpoint_url: 'https://receiver.example.com/', events_requested: '[]', events_delivered: '[]', status: 'enabled', created_at: 0, updated_at: 0 });
    expect(rows).toBeDefined();
    expect((await world.poll(token, 'push-stream')).status).toBe(400);
  });

  it('releases held long polls at shutdown with an empty answer', async () => {
    const other = await startTestApp({ env: { SSF_LONG_POLL_TIMEOUT: '300' } });
    try {
      const w = await ssfWorld(other);
      const t = await w.receiverToken();
      const s = await w.createStream(t, { delivery: { method: POLL }, aud: API_A });
      const held = w.poll(t, s.stream_id, {});
      await new Promise((r) => setTimeout(r, 200));
      other.deps.ssf.stop();
      expect(await held).toEqual({ status: 200, body: { sets: {} } });
    } finally {
      await other.close();
    }
  }, 20_000);

  // Regression: a held poll whose receiver went away (or that a stopping server released) read the
  // stream and its events once more; at shutdown that raced the database's close (knex then waited a
  // minute on a pool already destroyed).
  it('reads the database no more for a held poll once its receiver has gone away', async () => {
    const streamId = await pollStream();
    const reads: string[] = [];
    const watch = (q: { sql: string; bindings?: unknown[] }) => {
      if (q.bindings?.includes(streamId)) reads.push(q.sql);
    };
    const gone = new AbortController();
    const held = app.request(`/ssf/streams/${streamId}/poll`, { method: 'POST', token, json: {}, signal: gone.signal }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 200));
    app.deps.db.on('query', watch);
    try {
      gone.abort();
      expect(await held).toBe('aborted');
      await new Promise((r) => setTimeout(r, 300));
      expect(reads).toEqual([]);
    } finally {
      app.deps.db.removeListener('query', watch);
    }
  });

  it('holds a long poll past REQUEST_TIMEOUT (which bounds receiving the request, not answering it) and then answers { sets: {} }', async () => {
    const other = await startTestApp({ env: { SSF_LONG_POLL_TIMEOUT: '3', REQUEST_TIMEOUT: '1', HEADERS_TIMEOUT: '1' } });
    try {
      const w = await ssfWorld(other);
      const t = await w.receiverToken();
      const s = await w.createStream(t, { delivery: { method: POLL }, aud: API_A });
      expect(await w.poll(t, s.stream_id, {})).toEqual({ status: 200, body: { sets: {} } });
    } finally {
      await other.close();
    }
  }, 20_000);
});

/**
 * Issue #13 item 2: push delivery (RFC 8935) to a receiver's https endpoint — an outbound request
 * on someone else's word, so the address checks of every fetch apply (OUTBOUND_ALLOWED_HOSTS
 * admits the loopback test receiver) — with retries and backoff; a 400 is final.
 */
import type http from 'node:http';
import { startHttpsServer, type TestHttpsServer } from '../helpers/https-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { leaseEvent } from '../../src/store/ssf-events.js';
import { API_A, PUSH, SESSION_REVOKED, ssfWorld, verifySet, type SsfWorld } from '../helpers/ssf.js';
import { eventually } from '../helpers/eventually.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('Shared Signals: push delivery (RFC 8935)', () => {
  let receiver: TestHttpsServer;
  let app: TestApp;
  let world: SsfWorld;
  let token: string;
  /** What the receiver answers, per path: a list of statuses used in turn (the last one repeats). */
  const answers = new Map<string, number[]>();
  const received = new Map<string, Received[]>();

  beforeAll(async () => {
    receiver = await startHttpsServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const list = received.get(path) ?? [];
        list.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        received.set(path, list);
        const statuses = answers.get(path) ?? [202];
        const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
        if (status === 400) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ err: 'invalid_audience', description: 'not for us' }));
        } else {
          res.writeHead(status);
          res.end();
        }
      });
    });
    app = await startTestApp({ env: { OUTBOUND_ALLOWED_HOSTS: receiver.host, SSF_CHECK_INTERVAL: '50' } });
    world = await ssfWorld(app);
    token = await world.receiverToken();
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  const pushStream = async (path: string, authorization_header?: string) =>
    world.createStream(token, { delivery: { method: PUSH, endpoint_url: `${receiver.origin}${path}`, ...(authorization_header ? { authorization_header } : {}) }, aud: API_A });
  const outbox = async (streamId: string) => Number(((await app.deps.db('ssf_events').where({ stream_id: streamId }).count({ n: '*' }).first()) as { n: number | string }).n);

  it('pushes a verifiable SET with the stream\'s Authorization header, and forgets it on 202', async () => {
    const s = await pushStream('/ok', 'Bearer receiver-secret');
    expect(s.delivery).toEqual({ method: PUSH, endpoint_url: `${receiver.origin}/ok` });
    // The secret is never read back.
    expect(JSON.stringify(await (await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { token })).json())).not.toContain('receiver-secret');
    expect(JSON.stringify(await app.deps.db('ssf_streams').where({ id: s.stream_id }).first())).not.toContain('receiver-secret');

    const { grantId } = await world.grantOn(API_A);
    await world.revoke(grantId, 'pushed');
    await eventually(() => (received.get('/ok')?.length ?? 0) >= 1);
    const [push] = received.get('/ok')!;
    expect(push.headers['content-type']).toBe('application/secevent+jwt');
    expect(push.headers.accept).toBe('application/json');
    expect(push.headers.authorization).toBe('Bearer receiver-secret');
    const claims = await verifySet(app.issuer, push.body, API_A);
    expect(claims.sub_id).toEqual({ format: 'opaque', id: grantId });
    expect(claims.events[SESSION_REVOKED]).toMatchObject({ reason_admin: { en: 'pushed' }, client_id: world.backend.client_id, resource: [API_A] });
    await eventually(async () => (await outbox(s.stream_id)) === 0);
  });

  it('retries after a 503 with backoff and delivers the same SET (same jti) when the receiver is back', async () => {
    answers.set('/flaky', [503, 202]);
    const s = await pushStream('/flaky');
    await world.revoke((await world.grantOn(API_A)).grantId);
    await eventually(() => (received.get('/flaky')?.length ?? 0) >= 2);
    const [first, second] = received.get('/flaky')!;
    expect((await verifySet(app.issuer, second.body, API_A)).jti).toBe((await verifySet(app.issuer, first.body, API_A)).jti);
    await eventually(async () => (await outbox(s.stream_id)) === 0);
    const row = await app.deps.db('ssf_events').where({ stream_id: s.stream_id }).first();
    expect(row).toBeUndefined();
  });

  it('does not retry a SET the receiver refused with 400 (RFC 8935 §2.3): it is dropped', async () => {
    answers.set('/refuses', [400]);
    const s = await pushStream('/refuses');
    await world.revoke((await world.grantOn(API_A)).grantId);
    await eventually(async () => (received.get('/refuses')?.length ?? 0) >= 1 && (await outbox(s.stream_id)) === 0);
    // Longer than the first retry step (1 s) and many check intervals: no second attempt came.
    await new Promise((r) => setTimeout(r, 2500));
    expect(received.get('/refuses')).toHaveLength(1);
  });

  it('keeps the event of a push that failed for a later attempt (attempts counted, next attempt scheduled)', async () => {
    answers.set('/down', [503]);
    const s = await pushStream('/down');
    await world.revoke((await world.grantOn(API_A)).grantId);
    await eventually(() => (received.get('/down')?.length ?? 0) >= 1);
    await eventually(async () => Number((await app.deps.db('ssf_events').where({ stream_id: s.stream_id }).first())?.attempts ?? 0) >= 1);
    const row = await app.deps.db('ssf_events').where({ stream_id: s.stream_id }).first();
    expect(Number(row.next_attempt_at)).toBeGreaterThan(Number(row.created_at));
    expect(row.lease_owner).toBeNull();
    // Deleting the stream drops what it held.
    await app.request(`/ssf/streams?stream_id=${s.stream_id}`, { method: 'DELETE', token });
    expect(await outbox(s.stream_id)).toBe(0);
  });

  it('lets one instance at a time hold an event\'s lease (a conditional UPDATE decides), until it runs out', async () => {
    answers.set('/slow', [503]);
    const s = await pushStream('/slow');
    await world.revoke((await world.grantOn(API_A)).grantId);
    await eventually(async () => Number((await app.deps.db('ssf_events').where({ stream_id: s.stream_id }).first())?.attempts ?? 0) >= 1);
    await app.request('/ssf/status', { method: 'POST', token, json: { stream_id: s.stream_id, status: 'paused' } });
    const row = await app.deps.db('ssf_events').where({ stream_id: s.stream_id }).first();
    const now = Math.floor(Date.now() / 1000);
    const [one, two] = await Promise.all([leaseEvent(app.deps.db, Number(row.id), 'instance-1', now, now + 60), leaseEvent(app.deps.db, Number(row.id), 'instance-2', now, now + 60)]);
    expect([one, two].sort()).toEqual([false, true]);
    expect(await leaseEvent(app.deps.db, Number(row.id), 'instance-3', now + 61, now + 120)).toBe(true);
  });

  it('holds the pushes of a disabled client\'s streams until an admin enables it again', async () => {
    const rs = await app.client({ name: 'pausable rs', scopes: ['ssf'] });
    const s = await world.createStream(await world.receiverToken(rs), { delivery: { method: PUSH, endpoint_url: `${receiver.origin}/held` }, aud: API_A });
    const admin = await app.adminToken();
    expect((await app.request(`/admin/clients/${rs.client_id}`, { method: 'PATCH', token: admin, json: { disabled: true } })).status).toBe(200);
    await world.revoke((await world.grantOn(API_A)).grantId);
    // Many check intervals (50 ms) and longer than a first retry step: nothing was pushed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.get('/held')).toBeUndefined();
    expect(await outbox(s.stream_id)).toBe(1);
    expect((await app.request(`/admin/clients/${rs.client_id}`, { method: 'PATCH', token: admin, json: { disabled: false } })).status).toBe(200);
    await eventually(() => (received.get('/held')?.length ?? 0) >= 1);
    await eventually(async () => (await outbox(s.stream_id)) === 0);
  });
});

/**
 * Issue #13 item 2: every instance serves every stream, and nothing is lost — an event made on one
 * instance is delivered through another, and an unacknowledged event survives a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { startTestApp } from '../helpers/test-app.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';
import { startTwoInstances, type TwoInstances } from '../helpers/two-instances.js';
import { API_A, POLL, ssfWorld, verifySet } from '../helpers/ssf.js';

const subjects = (sets: Record<string, string>) => Object.values(sets).map((s) => (decodeJwt(s).sub_id as { id: string }).id);

describe('Shared Signals across instances', () => {
  let two: TwoInstances;
  beforeAll(async () => {
    // One issuer for both, as behind a load balancer: a token of either is accepted by the other.
    two = await startTwoInstances({ ISSUER: 'https://grantor.example' });
  });
  afterAll(() => two.close());

  it('answers a long poll held on instance B with a revocation made on instance A', async () => {
    const onA = await ssfWorld(two.a);
    const tokenB = await onA.receiverToken();
    const streamId = (await onA.createStream(tokenB, { delivery: { method: POLL }, aud: API_A })).stream_id;
    const { grantId } = await onA.grantOn(API_A);
    // SSF_LONG_POLL_TIMEOUT is 30 s; B looks at the database every SSF_CHECK_INTERVAL (100 ms).
    const held = two.b.request(`/ssf/streams/${streamId}/poll`, { method: 'POST', token: tokenB, json: {} });
    await new Promise((r) => setTimeout(r, 200));
    await onA.revoke(grantId);
    const res = await held;
    expect(res.status).toBe(200);
    const { sets } = await res.json();
    expect(subjects(sets)).toEqual([grantId]);
    await verifySet('https://grantor.example', Object.values(sets)[0] as string, API_A, two.b.url);
  }, 25_000);
});

describe('Shared Signals across a restart', () => {
  it('delivers an unacknowledged event again after the instance restarts on the same database', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantor-ssf-restart-'));
    const database = onPostgres ? await createTestDatabase() : { url: `sqlite:${path.join(dir, 'db.sqlite')}`, drop: async () => undefined };
    const env = { DATABASE_URL: database.url, KEY_ENCRYPTION_SECRET: 'the same secret across restarts' };
    const keysDir = fs.mkdtempSync(path.join(dir, 'keys-'));
    try {
      const first = await startTestApp({ env, keysDir });
      const world = await ssfWorld(first);
      const token = await world.receiverToken();
      const streamId = (await world.createStream(token, { delivery: { method: POLL }, aud: API_A })).stream_id;
      const { grantId } = await world.grantOn(API_A);
      await world.revoke(grantId);
      const seen = await world.poll(token, streamId);
      const [jti] = Object.keys(seen.body.sets);
      await first.close(); // never acknowledged

      const second = await startTestApp({ env, keysDir });
      try {
        const res = await second.token({ grant_type: 'client_credentials', scope: 'ssf' }, { basic: [world.receiver.client_id, world.receiver.client_secret] });
        const token2 = (await res.json()).access_token;
        const again = await second.request(`/ssf/streams/${streamId}/poll`, { method: 'POST', token: token2, json: { returnImmediately: true } });
        const { sets } = await again.json();
        expect(Object.keys(sets)).toEqual([jti]);
        expect(subjects(sets)).toEqual([grantId]);
        const acked = await second.request(`/ssf/streams/${streamId}/poll`, { method: 'POST', token: token2, json: { ack: [jti], returnImmediately: true } });
        expect(await acked.json()).toEqual({ sets: {} });
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Shared Signals push across instances', () => {
  it('pushes an event made on instance A through instance B when A does not deliver it', async () => {
    const { startHttpsServer } = await import('../helpers/https-server.js');
    const bodies: string[] = [];
    const receiver = await startHttpsServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.writeHead(202);
        res.end();
      });
    });
    const pair = await startTwoInstances({ ISSUER: 'https://grantor.example', OUTBOUND_ALLOWED_HOSTS: receiver.host });
    try {
      const onA = await ssfWorld(pair.a);
      const token = await onA.receiverToken();
      await onA.createStream(token, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${receiver.origin}/events` }, aud: API_A });
      // A's deliverer is stopped (as if A went down right after committing): B finds the event.
      pair.a.deps.ssf.stop();
      const { grantId } = await onA.grantOn(API_A);
      await onA.revoke(grantId);
      const until = Date.now() + 15_000;
      while (bodies.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(bodies).toHaveLength(1);
      expect((await verifySet('https://grantor.example', bodies[0], API_A, pair.b.url)).sub_id).toEqual({ format: 'opaque', id: grantId });
    } finally {
      await pair.close();
      await receiver.close();
    }
  }, 25_000);
});

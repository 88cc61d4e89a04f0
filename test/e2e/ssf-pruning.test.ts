/**
 * Issue #13: the Shared Signals outbox keeps an unacknowledged event for the revocation feed's
 * retention (a week), then prunes it with the rest of what can no longer matter.
 */
import { pruneRetention } from '../../src/deps.js';
import { fixedClock } from '../../src/lib/clock.js';
import { pruneExpired } from '../../src/store/prune.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { API_A, POLL, ssfWorld } from '../helpers/ssf.js';

const DAY = 86400;

describe('Shared Signals outbox pruning', () => {
  const clock = fixedClock(1_800_000_000);
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ clock });
  });
  afterAll(() => app.close());

  const prune = () => pruneExpired(app.deps.db, clock.now(), pruneRetention(app.deps.config), app.deps.config.grantIdleTimeout);
  const pending = async () => Number(((await app.deps.db('ssf_events').count({ n: '*' }).first()) as { n: number | string }).n);

  it('keeps an unacknowledged event a week, then prunes it; events of a deleted stream go at once', async () => {
    const world = await ssfWorld(app);
    const token = await world.receiverToken();
    const streamId = (await world.createStream(token, { delivery: { method: POLL }, aud: API_A })).stream_id;
    await world.revoke((await world.grantOn(API_A)).grantId);
    expect(await pending()).toBe(1);
    clock.advance(6 * DAY);
    await prune();
    expect(await pending()).toBe(1);
    expect(Object.keys((await world.poll(await world.receiverToken(), streamId)).body.sets)).toHaveLength(1);
    clock.advance(1 * DAY + 1);
    await prune();
    expect(await pending()).toBe(0);

    // An event written for a stream deleted meanwhile (a revocation racing the deletion) is an orphan.
    await app.deps.db('ssf_events').insert({ stream_id: 'gone', jti: 'j', event: '{}', created_at: clock.now(), attempts: 0, next_attempt_at: clock.now() });
    await prune();
    expect(await pending()).toBe(0);
  });
});

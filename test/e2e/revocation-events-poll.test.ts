/**
 * Issue #13 item 3: the resource-server module subscribes to the issuer's revocation events
 * (OpenID SSF 1.0, CAEP 1.0 session-revoked) by polling (RFC 8936), and refuses a revoked grant's
 * tokens as soon as the event arrives, keeping the status list as the fallback. Against a fake
 * transmitter that follows the wire contract (test/helpers/fake-ssf-transmitter.ts).
 */
import { generateKeyPair } from 'jose';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/resource-server/index.js';
import { outcome, sleep, until } from '../helpers/eventually.js';
import { CLIENT, SESSION_REVOKED, startFakeTransmitter, type FakeStream, type FakeTransmitter } from '../helpers/fake-ssf-transmitter.js';

const API = 'https://api.example.com';
const realNow = () => Math.floor(Date.now() / 1000);



const acked = (s: FakeStream, jti: string) => s.polls.some((p) => ((p.ack as string[] | undefined) ?? []).includes(jti));
const reported = (s: FakeStream, jti: string) => s.polls.map((p) => (p.setErrs as Record<string, { err: string }> | undefined)?.[jti]).find(Boolean);

describe('revocation events by poll (RFC 8936)', () => {
  let fake: FakeTransmitter;
  let verifier: Verifier;
  let logs: string[];
  let skew = 0;

  const start = (extra: Partial<VerifierOptions['revocationEvents']> = {}, verifierExtra: Partial<VerifierOptions> = {}) => {
    logs = [];
    verifier = createVerifier({
      issuer: fake.url,
      audience: API,
      now: () => realNow() + skew,
      ...verifierExtra,
      revocationEvents: { credentials: CLIENT, logger: (line) => logs.push(line), retryDelay: { min: 20, max: 50 }, ...extra },
    });
    return verifier;
  };

  beforeEach(async () => {
    skew = 0;
    fake = await startFakeTransmitter();
  });
  afterEach(async () => {
    await verifier?.close();
    await fake.close();
  });

  it('refuses a revoked grant’s token as soon as its session-revoked event is polled, the status list unchanged', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const revokedToken = await fake.accessToken(API, 'grant-1', 1);
    const liveToken = await fake.accessToken(API, 'grant-2', 2);
    expect(await outcome(verifier, revokedToken)).toBe('ok');

    const [jti] = await fake.revoke('grant-1');
    await until(() => acked(fake.stream(), jti), 'the SET is acknowledged');

    // The same refusal as a status-list revocation: invalid_token, "the token’s grant is revoked".
    expect(await outcome(verifier, revokedToken)).toBe('invalid_token: the token’s grant is revoked');
    expect(await outcome(verifier, liveToken)).toBe('ok');
    expect(verifier.revocationState()).toMatchObject({ channel: 'stream', delivery: 'poll', streamId: fake.stream().id, revokedGrants: 1 });
    expect(verifier.revocationState().lastEventAt).toEqual(expect.any(Number));
  });

  it('discovers the transmitter, takes a client_credentials token with scope ssf, and creates a polled stream for its audience (SSF 1.0 §7.1, §8.1.1.1)', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    expect(fake.requests.slice(0, 4)).toEqual(['GET /.well-known/ssf-configuration', 'GET /.well-known/oauth-authorization-server', 'POST /token', 'POST /ssf/streams']);
    expect(fake.tokenRequests[0]).toEqual({ form: { grant_type: 'client_credentials', scope: 'ssf' }, basic: `${CLIENT.clientId}:${CLIENT.clientSecret}` });
    expect(fake.stream().configurations[0]).toMatchObject({
      delivery: { method: 'urn:ietf:rfc:8936' },
      aud: API,
      events_requested: [SESSION_REVOKED, 'https://schemas.openid.net/secevent/ssf/event-type/verification'],
    });
    expect(logs).toEqual([expect.stringMatching(/receiving on stream stream-\d+ \(poll\)/)]);
  });

  it('acknowledges in its next poll what it processed, and only that (RFC 8936 §2.4)', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const [a] = await fake.revoke('grant-a');
    const [b] = await fake.revoke('grant-b');
    await until(() => acked(fake.stream(), a) && acked(fake.stream(), b), 'both acknowledged');
    const withAcks = fake.stream().polls.filter((p) => p.ack);
    expect(withAcks.flatMap((p) => p.ack as string[]).sort()).toEqual([a, b].sort());
    expect(fake.stream().pending.size).toBe(0);
    // The acknowledgements ride on long polls (returnImmediately false, RFC 8936 §2.4).
    expect(withAcks.every((p) => p.returnImmediately === false)).toBe(true);
  });

  describe('refuses invalid SETs: reported in setErrs, never applied (RFC 8417 §2.2, §4; RFC 8936 §2.4.4)', () => {
    const forgeries: Array<[string, (f: FakeTransmitter, s: FakeStream) => Promise<{ jti: string; jws: string }>, string]> = [
      ['typ JWT instead of secevent+jwt', (f, s) => f.signSet(s.aud, revokes(), sub(), { header: { typ: 'JWT' } }), 'invalid_request'],
      ['another issuer', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { iss: 'https://evil.example.com' } }), 'invalid_issuer'],
      ['another audience', (f) => f.signSet('https://other.example.com', revokes(), sub()), 'invalid_audience'],
      ['a foreign key under the real kid', async (f, s) => f.signSet(s.aud, revokes(), sub(), { key: (await generateKeyPair('RS256')).privateKey }), 'invalid_key'],
      ['a tampered payload', async (f, s) => {
        const set = await f.signSet(s.aud, revokes(), sub());
        const [h, p, sig] = set.jws.split('.');
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        claims.sub_id.id = 'grant-x2';
        return { jti: set.jti, jws: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}` };
      }, 'invalid_key'],
      ['alg PS256 (only RS256 is Grantor’s)', async (f, s) => {
        const { privateKey } = await generateKeyPair('PS256');
        return f.signSet(s.aud, revokes(), sub(), { alg: 'PS256', key: privateKey });
      }, 'invalid_key'],
      ['no iat', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { iat: undefined } }), 'invalid_request'],
      ['an iat an hour ahead', (f, s) => f.signSet(s.aud, revokes(), sub(), { claims: { iat: realNow() + 3600 } }), 'invalid_request'],
      ['no jti', async (f, s) => ({ ...(await f.signSet(s.aud, revokes(), sub(), { claims: { jti: undefined } })), jti: 'no-jti-here' }), 'invalid_request'],
      ['two events', (f, s) => f.signSet(s.aud, { ...revokes(), 'https://example.com/other': {} }, sub()), 'invalid_request'],
      ['session-revoked without an opaque sub_id', (f, s) => f.signSet(s.aud, revokes(), { format: 'email', email: 'a@example.com' }), 'invalid_request'],
    ];
    function revokes() {
      return { [SESSION_REVOKED]: { event_timestamp: realNow(), initiating_entity: 'admin' } };
    }
    function sub() {
      return { format: 'opaque', id: 'grant-x' };
    }

    it.each(forgeries)('%s', async (_name, forge, err) => {
      start();
      await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
      const token = await fake.accessToken(API, 'grant-x', 3);
      const s = fake.stream();
      const set = await forge(fake, s);
      await fake.deliver(s, set.jti, set.jws);
      await until(() => reported(s, set.jti) !== undefined, 'the SET is reported');
      expect(reported(s, set.jti)).toEqual({ err, description: expect.any(String) });
      expect(acked(s, set.jti)).toBe(false);
      expect(await outcome(verifier, token)).toBe('ok');
      expect(verifier.revocationState()).toMatchObject({ channel: 'stream', revokedGrants: 0 });
    });
  });

  it('acknowledges and ignores event types it does not know (SSF 1.0: receivers ignore them)', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const s = fake.stream();
    const set = await fake.signSet(s.aud, { 'https://schemas.openid.net/secevent/caep/event-type/credential-change': { credential_type: 'password' } }, { format: 'opaque', id: 'grant-1' });
    await fake.deliver(s, set.jti, set.jws);
    await until(() => acked(s, set.jti), 'acknowledged');
    expect(await outcome(verifier, await fake.accessToken(API, 'grant-1', 1))).toBe('ok');
    expect(reported(s, set.jti)).toBeUndefined();
  });

  it('acknowledges a SET delivered again (same jti) instead of reporting it, the grant counted once', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const s = fake.stream();
    const [jti] = await fake.revoke('grant-1');
    await until(() => acked(s, jti), 'acknowledged');
    const polls = s.polls.length;
    const again = await fake.signSet(s.aud, { [SESSION_REVOKED]: {} }, { format: 'opaque', id: 'grant-1' }, { claims: { jti } });
    await fake.deliver(s, jti, again.jws);
    await until(() => s.polls.slice(polls).some((p) => ((p.ack as string[] | undefined) ?? []).includes(jti)), 'acknowledged again');
    expect(verifier.revocationState().revokedGrants).toBe(1);
  });

  it('takes a SET signed by a key the JWKS publishes only after it arrived (key rotation): left to come again, not reported', async () => {
    start({ retryDelay: { min: 100, max: 200 } }, { jwksCooldown: 0 });
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const token = await fake.accessToken(API, 'grant-r', 4);
    const next = await fake.addKey();
    const s = fake.stream();
    const set = await fake.signSet(s.aud, { [SESSION_REVOKED]: { event_timestamp: realNow() } }, { format: 'opaque', id: 'grant-r' }, { header: { kid: next.kid }, key: next.privateKey });
    const jwksFetches = () => fake.requests.filter((r) => r === 'GET /.well-known/jwks.json').length;
    const before = jwksFetches();
    await fake.deliver(s, set.jti, set.jws);
    await until(() => jwksFetches() >= before + 2, 'looked for the kid twice');
    next.publish();
    await until(() => acked(s, set.jti), 'acknowledged once the key is published');
    expect(reported(s, set.jti)).toBeUndefined();
    expect(await outcome(verifier, token)).toBe('invalid_token: the token’s grant is revoked');
  });

  it('reports a SET whose kid never appears in the JWKS as invalid_key, after a few tries', async () => {
    start({}, { jwksCooldown: 0 });
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const stranger = await fake.addKey();
    const s = fake.stream();
    const set = await fake.signSet(s.aud, { [SESSION_REVOKED]: {} }, { format: 'opaque', id: 'grant-s' }, { header: { kid: stranger.kid }, key: stranger.privateKey });
    await fake.deliver(s, set.jti, set.jws);
    await until(() => reported(s, set.jti) !== undefined, 'reported');
    expect(reported(s, set.jti)).toEqual({ err: 'invalid_key', description: expect.any(String) });
    expect(acked(s, set.jti)).toBe(false);
  });

  it('takes its Bearer token from the app’s function when given one instead of client credentials', async () => {
    let calls = 0;
    const token = async () => {
      calls++;
      const res = await fetch(`${fake.url}/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=ssf',
      });
      return (await res.json()).access_token as string;
    };
    start({ credentials: { token } });
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    expect(calls).toBeGreaterThan(0);
    expect(fake.requests).not.toContain('GET /.well-known/oauth-authorization-server');
  });

  it('renews its token at half its life, before the transmitter would refuse it', async () => {
    fake.tokenLifetime = 10;
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    expect(fake.tokenRequests).toHaveLength(1);
    skew = 6;
    await until(() => fake.tokenRequests.length === 2, 'a second token');
    const [jti] = await fake.revoke('grant-1');
    await until(() => acked(fake.stream(), jti), 'acknowledged');
    expect(logs).toHaveLength(1); // never fell back
  });

  it('remembers a revoked grant for revokedGrantRetention seconds; then the status list alone refuses it', async () => {
    start({ revokedGrantRetention: 60 });
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const token = await fake.accessToken(API, 'grant-1', 1);
    const [jti] = await fake.revoke('grant-1');
    await until(() => acked(fake.stream(), jti), 'acknowledged');
    // A second short of the retention: the clock reads whole seconds, and the check may fall in
    // the second after the one the revocation was recorded in (a busy machine: CI once did).
    skew = 58;
    expect(await outcome(verifier, token)).toBe('invalid_token: the token’s grant is revoked');
    skew = 61; // forgotten: only the status list (not set here) speaks for it now
    expect(await outcome(verifier, token)).toBe('ok');
    fake.setStatus(1, 1);
    skew = 63; // past the list's ttl of 1 s
    expect(await outcome(verifier, token)).toBe('invalid_token: the token’s grant is revoked');
  });

  it('gets a new token when the transmitter answers 401, and keeps polling', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    fake.forgetTokens();
    const [jti] = await fake.revoke('grant-1');
    await until(() => acked(fake.stream(), jti), 'acknowledged');
    expect(fake.tokenRequests.length).toBeGreaterThanOrEqual(2);
    expect(await outcome(verifier, await fake.accessToken(API, 'grant-1', 1))).toBe('invalid_token: the token’s grant is revoked');
  });

  it('keeps a stream across restarts with streamId: created on the first start, reused (not made again) on the next, and left in place by close()', async () => {
    start({ streamId: 'first-start' });
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const { streamId } = verifier.revocationState();
    expect(logs[0]).toMatch(/stream first-start is gone; creating a new one/);
    await verifier.close();
    expect(fake.streams.has(streamId!)).toBe(true);
    // A revocation while the API is down waits in the stream.
    const [jti] = await fake.revoke('grant-while-down');

    start({ streamId });
    await until(() => acked(fake.stream(), jti), 'the event queued meanwhile is taken');
    expect(verifier.revocationState()).toMatchObject({ channel: 'stream', streamId });
    expect(fake.requests.filter((r) => r === 'POST /ssf/streams')).toHaveLength(1);
    expect(fake.requests).toContain('GET /ssf/streams');
    expect(await outcome(verifier, await fake.accessToken(API, 'grant-while-down', 1))).toBe('invalid_token: the token’s grant is revoked');
  });

  it('makes a new stream when its stream is gone (404), and says so', async () => {
    start({ streamId: 'stream-that-is-not' });
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    expect(verifier.revocationState().streamId).not.toBe('stream-that-is-not');
    expect(logs[0]).toMatch(/stream stream-that-is-not is gone; creating a new one/);
    fake.streams.clear(); // deleted by an admin
    await until(() => fake.streams.size === 1, 'made again');
    const [jti] = await fake.revoke('grant-9');
    await until(() => acked(fake.stream(), jti), 'acknowledged on the new stream');
  });

  it('falls back to the status list when the transmitter is down (one log line), still refusing revoked tokens, then recovers', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    const token = await fake.accessToken(API, 'grant-5', 5);
    expect(await outcome(verifier, token)).toBe('ok');

    fake.down = true;
    const failing = () => fake.requests.filter((r) => r.endsWith('/poll')).length;
    const before = failing();
    await until(() => verifier.revocationState().channel === 'status-list-only', 'fallback');
    await until(() => failing() >= before + 3, 'retried a few times');
    expect(verifier.revocationState()).toMatchObject({ channel: 'status-list-only', lastError: 'poll answered 503 (temporarily_unavailable)' });
    expect(logs.filter((l) => /falling back/.test(l))).toEqual([expect.stringMatching(/falling back to the status list alone \(poll answered 503 \(temporarily_unavailable\)\)/)]);

    // The status list still refuses within its ttl (1 s here: the module's clock is moved past it).
    fake.setStatus(5, 1);
    skew = 2;
    expect(await outcome(verifier, token)).toBe('invalid_token: the token’s grant is revoked');
    expect(await outcome(verifier, await fake.accessToken(API, 'grant-6', 6))).toBe('ok');

    fake.down = false;
    await until(() => verifier.revocationState().channel === 'stream', 'recovered');
    expect(verifier.revocationState().lastError).toBeUndefined();
    expect(logs.filter((l) => /receiving on stream/.test(l))).toHaveLength(2);
  });

  it('says why the transmitter refused to create the stream (its OAuth error), in the state and the log', async () => {
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    await verifier.close();
    fake.refuseStreams = { error: 'invalid_request', error_description: 'aud: no such resource' };
    start();
    await until(() => logs.length > 0, 'a log line');
    expect(verifier.revocationState().lastError).toBe('creating a stream answered 400 (invalid_request: aud: no such resource)');
    expect(logs).toEqual([expect.stringContaining('falling back to the status list alone (creating a stream answered 400 (invalid_request: aud: no such resource))')]);
  });

  it('says it runs on the status list alone when the stream cannot be created, and tokens pass as before', async () => {
    fake.down = true;
    start();
    await until(() => logs.length > 0, 'a log line');
    expect(verifier.revocationState()).toMatchObject({ channel: 'status-list-only', delivery: 'poll', lastError: expect.stringMatching(/503/) });
    expect(verifier.revocationState().streamId).toBeUndefined();
    fake.down = false; // the JWKS and status list are served either way
    expect(await outcome(verifier, await fake.accessToken(API, 'grant-1', 1))).toBe('ok');
  });

  it('close() ends the poll in flight and deletes the stream it created; nothing is left running', async () => {
    fake.holdSeconds = 30;
    start();
    await until(() => verifier.revocationState().channel === 'stream', 'the stream is up');
    await until(() => fake.stream().polls.length >= 2, 'a long poll is held');
    const id = fake.stream().id;
    await verifier.close();
    expect(fake.streams.has(id)).toBe(false);
    expect(fake.requests.at(-1)).toBe('DELETE /ssf/streams');
    const count = fake.requests.length;
    await sleep(100);
    expect(fake.requests.length).toBe(count);
  });
});

describe('a verifier without revocationEvents', () => {
  it('reports the status list as its only channel and refuses pushed SETs with access_denied', async () => {
    const verifier = createVerifier({ issuer: 'https://as.example.com', audience: API });
    expect(verifier.revocationState()).toEqual({ channel: 'status-list-only', delivery: 'none', revokedGrants: 0 });
    const answer = await verifier.receiveSet('a.b.c', { 'content-type': 'application/secevent+jwt' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ err: 'access_denied', description: expect.any(String) });
    await verifier.close();
  });
});

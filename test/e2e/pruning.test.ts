import { decodeJwt } from 'jose';
import { pruneRetention } from '../../src/deps.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createUser } from '../../src/registry/users.js';
import { pruneExpired } from '../../src/store/prune.js';
import { Person, pkce } from '../helpers/browserless.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://api.example.com';
const REDIRECT = 'https://app.example.com/cb';
const DAY = 86400;

describe('bounded growth: pruning what can no longer matter', () => {
  const clock = fixedClock(1_800_000_000);
  let app: TestApp;
  const count = async (table: string) => Number((await app.deps.db(table).count({ n: '*' }))[0].n);
  const prune = () => pruneExpired(app.deps.db, clock.now(), pruneRetention(app.deps.config), app.deps.config.grantIdleTimeout);

  beforeAll(async () => {
    app = await startTestApp({ clock, env: { GRANT_MAX_LIFETIME: String(3 * DAY), GRANT_IDLE_TIMEOUT: String(2 * DAY) } });
    await app.resource({ identifier: API, scopes: [{ name: 'read' }] });
    await createUser(app.deps, { username: 'pat', password: 'long enough password' });
  });
  afterAll(() => app.close());

  async function delegatedGrant(): Promise<{ refresh: string; grantId: string }> {
    const spa = await app.client({ type: 'public', redirect_uris: [REDIRECT], scopes: ['read'] });
    const { verifier, challenge } = pkce();
    const person = new Person(app.url);
    const back = await person.authorize(
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: spa.client_id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' })}`,
      { username: 'pat', password: 'long enough password' },
    );
    const body = await (await app.token({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.client_id })).json();
    return { refresh: body.refresh_token, grantId: decodeJwt(body.access_token).grant_id as string };
  }

  it('keeps everything live, then removes expired sessions, codes, failed-login counts, tokens and long-dead grants with their entries', async () => {
    const standing = await app.client({ scopes: ['read'] });
    await app.token({ grant_type: 'client_credentials' }, { basic: [standing.client_id, standing.client_secret] });
    const kept = await delegatedGrant();
    const revoked = await delegatedGrant();
    await app.request(`/admin/grants/${revoked.grantId}`, { method: 'DELETE', token: await app.adminToken() });

    // A failed sign-in leaves a count for the account with the address, the address, and the account.
    await app.deps.loginLimiter.failed('pat', '127.0.0.1');
    expect(await count('login_failures')).toBe(3);

    // Right now nothing can go but nothing: everything still matters.
    const before = { grants: await count('grants'), revocations: await count('revocations'), refresh: await count('refresh_tokens') };
    const first = await prune();
    expect(first.grants).toBe(0);
    expect(first.revocations).toBe(0);
    expect(await count('login_failures')).toBe(3);
    expect(await count('grants')).toBe(before.grants);

    // A day and an hour on: sessions (8 h) and codes are gone; the revoked grant's tokens may still
    // live (a resource's tokens can last a day), so it and its entry stay.
    clock.advance(DAY + 3600);
    const later = await prune();
    expect(later.sessions).toBeGreaterThan(0);
    expect(later.authorizationCodes).toBeGreaterThan(0);
    expect(later.loginFailures).toBe(3); // their 15-minute window ended long ago
    expect(await count('login_failures')).toBe(0);
    expect(await count('sessions')).toBe(0);
    expect(await count('authorization_codes')).toBe(0);
    expect(await app.deps.db('grants').where({ id: revoked.grantId }).first()).toBeDefined();

    // Eight days on: the revoked grant and its entry are gone, and so is the idle one; the standing
    // client_credentials grant and the admin's stay.
    clock.advance(7 * DAY);
    const last = await prune();
    expect(await app.deps.db('grants').where({ id: revoked.grantId }).first()).toBeUndefined();
    expect(await app.deps.db('revocations').where({ grant_id: revoked.grantId }).first()).toBeUndefined();
    expect(await app.deps.db('grants').where({ id: kept.grantId }).first()).toBeUndefined();
    expect(await app.deps.db('refresh_tokens').whereIn('grant_id', [kept.grantId, revoked.grantId])).toEqual([]);
    expect(await app.deps.db('grants').where({ client_id: standing.client_id }).first()).toBeDefined();
    expect(last.grants).toBeGreaterThanOrEqual(2);
  });
});

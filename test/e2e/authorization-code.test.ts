import { decodeJwt } from 'jose';
import { createUser } from '../../src/registry/users.js';
import { Person, pkce } from '../helpers/browserless.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const API = 'https://photos.example.com';
const REDIRECT = 'https://app.example.com/callback';

describe('authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636)', () => {
  let app: TestApp;
  let spa: { client_id: string };
  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: API, name: 'Photos', scopes: [{ name: 'photos:read', description: 'See your photos' }, { name: 'photos:write', description: 'Upload photos' }] });
    spa = await app.client({ name: 'Photo Printer', type: 'public', redirect_uris: [REDIRECT], scopes: ['photos:read', 'photos:write'] });
    await createUser(app.deps, { username: 'alice', password: 'correct horse battery' });
  });
  afterAll(() => app.close());

  const authorizeUrl = (challenge: string, extra: Record<string, string> = {}) =>
    `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: spa.client_id, redirect_uri: REDIRECT, scope: 'photos:read', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256', ...extra })}`;

  it('logs in, asks consent, redirects with code, state and iss, and trades the code for tokens', async () => {
    const person = new Person(app.url);
    const { verifier, challenge } = pkce();
    const back = await person.authorize(authorizeUrl(challenge), { username: 'alice', password: 'correct horse battery' });
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('xyz');
    expect(back.searchParams.get('iss')).toBe(app.issuer);
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const res = await app.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.client_id });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600, scope: 'photos:read', refresh_token: expect.any(String) });
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ aud: API, client_id: spa.client_id, scope: 'photos:read' });

    // Refresh rotates.
    const refreshed = await app.token({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: spa.client_id });
    expect(refreshed.status).toBe(200);
    const next = await refreshed.json();
    expect(next.refresh_token).not.toBe(body.refresh_token);

    // A second visit does not ask again.
    const again = await person.authorize(authorizeUrl(pkce().challenge), { username: 'alice', password: 'x' });
    expect(again.searchParams.get('code')).toBeTruthy();
  });

  it('refuses an over-long state without echoing a mangled copy of it', async () => {
    const res = await fetch(`${app.url}${authorizeUrl(pkce().challenge, { state: 's'.repeat(3000) })}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.has('state')).toBe(false);
    expect(location.searchParams.get('iss')).toBe(app.issuer);
  });
});

import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('client_credentials grant (RFC 6749 §4.4, RFC 9068)', () => {
  let app: TestApp;
  let creds: { client_id: string; client_secret: string };
  beforeAll(async () => {
    app = await startTestApp();
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }, { name: 'write' }], access_token_ttl: 120 });
    creds = await app.client({ scopes: ['read', 'write'] });
  });
  afterAll(() => app.close());

  it('issues an RFC 9068 access token to a client using client_secret_basic', async () => {
    const res = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret] });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const body = await res.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 120, scope: 'read' });
    expect(body.refresh_token).toBeUndefined();

    const header = decodeProtectedHeader(body.access_token);
    expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: app.deps.keyRing.signingKey().kid });
    const jwks = createLocalJWKSet({ keys: app.deps.keyRing.publicJwks() });
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer: app.issuer, audience: 'https://api.example.com', typ: 'at+jwt' });
    expect(payload).toEqual({
      iss: app.issuer,
      sub: creds.client_id,
      aud: 'https://api.example.com',
      exp: (payload.iat as number) + 120,
      iat: expect.any(Number),
      jti: expect.any(String),
      client_id: creds.client_id,
      scope: 'read',
      grant_id: expect.any(String),
      status: { status_list: { idx: expect.any(Number), uri: `${app.issuer}/statuslists/1` } },
    });
  });

  it('accepts client_secret_post and grants every allowed scope when none is asked', async () => {
    const res = await app.token({ grant_type: 'client_credentials', client_id: creds.client_id, client_secret: creds.client_secret });
    expect(res.status).toBe(200);
    expect((await res.json()).scope).toBe('read write');
  });

  it('reuses one standing grant per client and resource, so repeated issuance writes nothing', async () => {
    const grantIds = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret] });
      const { access_token } = await res.json();
      grantIds.add(JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString()).grant_id);
    }
    expect(grantIds.size).toBe(1);
    const rows = await app.deps.db('grants').where({ client_id: creds.client_id });
    expect(rows).toHaveLength(1);
  });

  it('makes exactly one standing grant when first requests race', async () => {
    const racer = await app.client({ scopes: ['read'] });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => app.token({ grant_type: 'client_credentials' }, { basic: [racer.client_id, racer.client_secret] })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await app.deps.db('grants').where({ client_id: racer.client_id })).toHaveLength(1);
  });

  it('refuses a scope beyond what the client may have with invalid_scope', async () => {
    const narrow = await app.client({ scopes: ['read'] });
    const res = await app.token({ grant_type: 'client_credentials', scope: 'read write' }, { basic: [narrow.client_id, narrow.client_secret] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_scope', error_description: expect.any(String) });
  });

  it('uses the resource parameter as the audience and refuses unknown or malformed ones (RFC 8707)', async () => {
    await app.resource({ identifier: 'https://other.example.com', scopes: [{ name: 'read' }] });
    const both = await app.client({ scopes: ['read'] });
    const basic: [string, string] = [both.client_id, both.client_secret];

    const ambiguous = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic });
    expect(ambiguous.status).toBe(400);
    expect((await ambiguous.json()).error).toBe('invalid_target');

    const named = await app.token({ grant_type: 'client_credentials', scope: 'read', resource: 'https://other.example.com' }, { basic });
    expect(named.status).toBe(200);
    const { access_token } = await named.json();
    expect(JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString()).aud).toBe('https://other.example.com');

    for (const resource of ['https://unknown.example.com', 'not a uri', 'https://api.example.com#frag', '/relative']) {
      const res = await app.token({ grant_type: 'client_credentials', resource }, { basic });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_target');
    }
  });

  it('answers invalid_client with 401 and a Basic challenge for a wrong secret', async () => {
    const res = await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, 'wrong'] });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="grantor"/);
    expect(await res.json()).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
  });

  it('answers invalid_client without a challenge when body credentials are wrong', async () => {
    const res = await app.token({ grant_type: 'client_credentials', client_id: creds.client_id, client_secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('refuses two client authentication methods at once (RFC 6749 §2.3)', async () => {
    const res = await app.token({ grant_type: 'client_credentials', client_secret: creds.client_secret }, { basic: [creds.client_id, creds.client_secret] });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_request');
  });

  it('refuses a client not allowed the grant with unauthorized_client', async () => {
    const other = await app.client({ grant_types: ['authorization_code'], redirect_uris: ['https://app.example.com/cb'], scopes: ['read'] });
    const res = await app.token({ grant_type: 'client_credentials' }, { basic: [other.client_id, other.client_secret] });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('unauthorized_client');
  });

  it('refuses a disabled client', async () => {
    const doomed = await app.client({ scopes: ['read'] });
    await app.deps.db('clients').where({ client_id: doomed.client_id }).update({ disabled: true });
    const res = await app.token({ grant_type: 'client_credentials' }, { basic: [doomed.client_id, doomed.client_secret] });
    expect(res.status).toBe(401);
  });

  it('answers unsupported_grant_type and invalid_request for missing grant_type', async () => {
    const unknown = await app.token({ grant_type: 'password', username: 'a', password: 'b' }, { basic: [creds.client_id, creds.client_secret] });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toBe('unsupported_grant_type');
    const missing = await app.token({}, { basic: [creds.client_id, creds.client_secret] });
    expect((await missing.json()).error).toBe('invalid_request');
  });
});

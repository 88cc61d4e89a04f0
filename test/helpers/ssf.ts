/**
 * Shared Signals test world (issue #13): two APIs, a backend client holding grants on them, a
 * resource server's receiver client allowed the `ssf` scope, and a receiver written with jose only
 * (no module of Grantor's), to show any language can consume the streams.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { TestApp } from './test-app.js';

export const API_A = 'https://api-a.example.com';
export const API_B = 'https://api-b.example.com';
export const POLL = 'urn:ietf:rfc:8936';
export const PUSH = 'urn:ietf:rfc:8935';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

export type Creds = { client_id: string; client_secret: string };

export interface SsfWorld {
  backend: Creds;
  receiver: Creds;
  /** An access token of the receiver client with scope `ssf`. */
  receiverToken(creds?: Creds): Promise<string>;
  /** A client_credentials token of the backend for an API, and its grant id. */
  grantOn(resource: string): Promise<{ token: string; grantId: string }>;
  /** Revokes a grant through the admin API. */
  revoke(grantId: string, reason?: string): Promise<void>;
  createStream(token: string, body: Record<string, unknown>): Promise<{ stream_id: string; delivery: { endpoint_url: string } } & Record<string, unknown>>;
  poll(token: string, streamId: string, body?: Record<string, unknown>): Promise<{ status: number; body: any }>;
}

export async function ssfWorld(app: TestApp, opts: { withApis?: boolean } = {}): Promise<SsfWorld> {
  if (opts.withApis !== false) {
    await app.resource({ identifier: API_A, name: 'API A', scopes: [{ name: 'a:read' }] });
    await app.resource({ identifier: API_B, name: 'API B', scopes: [{ name: 'b:read' }] });
  }
  const backend = await app.client({ name: 'backend', scopes: ['a:read', 'b:read'] });
  const receiver = await app.client({ name: 'api-a server', scopes: ['ssf'] });
  const admin = await app.adminToken();
  const basic = (c: Creds): [string, string] => [c.client_id, c.client_secret];
  return {
    backend,
    receiver,
    async receiverToken(creds = receiver) {
      const res = await app.token({ grant_type: 'client_credentials', scope: 'ssf' }, { basic: basic(creds) });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`no ssf token: ${JSON.stringify(body)}`);
      return body.access_token as string;
    },
    async grantOn(resource) {
      const res = await app.token({ grant_type: 'client_credentials', resource }, { basic: basic(backend) });
      const token = (await res.json()).access_token as string;
      return { token, grantId: decodeJwt(token).grant_id as string };
    },
    async revoke(grantId, reason = 'compromised') {
      const res = await app.request(`/admin/grants/${grantId}`, { method: 'DELETE', token: admin, json: { reason } });
      if (res.status !== 200) throw new Error(`revoke failed: ${res.status}`);
    },
    async createStream(token, body) {
      const res = await app.request('/ssf/streams', { method: 'POST', token, json: body });
      const json = await res.json();
      if (res.status !== 201) throw new Error(`stream not created: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async poll(token, streamId, body = { returnImmediately: true }) {
      const res = await app.request(`/ssf/streams/${encodeURIComponent(streamId)}/poll`, { method: 'POST', token, json: body });
      return { status: res.status, body: await res.json() };
    },
  };
}

/**
 * The jose-only receiver's check of one SET (RFC 8417 §2, SSF 1.0 §4.1): signature with a key of
 * the issuer's JWKS (fetched from `server`, the issuer unless a test names it otherwise), `typ` secevent+jwt, exact `iss`, `aud`, and one event.
 */
export async function verifySet(issuer: string, set: string, audience: string, server = issuer): Promise<JWTPayload & { sub_id: { format: string; id: string }; events: Record<string, any> }> {
  const jwks = createRemoteJWKSet(new URL(`${server}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(set, jwks, { issuer, audience, typ: 'secevent+jwt', algorithms: ['RS256'] });
  return payload as any;
}

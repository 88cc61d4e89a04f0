/**
 * A fake Shared Signals transmitter standing in for Grantor's (built concurrently, same wire
 * contract: /work/prompts/ssf-contract.md): on loopback, with its own RS256 key, it serves
 * authorization server metadata, a client_credentials token endpoint (scope `ssf`), the JWKS,
 * SSF discovery, stream management, RFC 8936 long polls with acks and RFC 8935 pushes, a
 * verification endpoint, a Token Status List, and signs access tokens and SETs with jose.
 * Tests drive it (revoke a grant, queue a hand-made SET, go down) and read what it recorded.
 */
import http from 'node:http';
import { deflateSync } from 'node:zlib';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const CLIENT = { clientId: 'api-receiver', clientSecret: 'receiver-secret-0123456789' };

export interface FakeStream {
  id: string;
  owner: string;
  aud: string | string[];
  delivery: { method: string; endpoint_url?: string; authorization_header?: string };
  eventsRequested?: string[];
  /** jti → SET, not yet acknowledged, in order. */
  pending: Map<string, string>;
  /** Every poll request's body. */
  polls: Array<Record<string, unknown>>;
  /** Every push: its jti, the answer's status and body. */
  pushes: Array<{ jti: string; status: number; body: string }>;
  /** Every request body of create/update. */
  configurations: Array<Record<string, unknown>>;
}

export interface SetOptions {
  header?: Record<string, unknown>;
  key?: CryptoKey;
  alg?: string;
  /** Claims to set (undefined removes one). */
  claims?: Record<string, unknown>;
}

export interface FakeTransmitter {
  url: string;
  streams: Map<string, FakeStream>;
  /** Every request as `METHOD path`, in order. */
  requests: string[];
  /** Token endpoint requests: the form and the Basic credentials. */
  tokenRequests: Array<{ form: Record<string, string>; basic: string }>;
  /** Answer every SSF, token and metadata request with 503 (and end held polls) while true. */
  down: boolean;
  /** Seconds a long poll is held when nothing is pending. Default 1. */
  holdSeconds: number;
  /** `expires_in` of its tokens. Default 3600. */
  tokenLifetime: number;
  /** When set, stream creation answers 400 with this body (an aud naming no resource, say). */
  refuseStreams?: { error: string; error_description?: string };
  /** Verification requests are accepted but no verification event is sent while true. */
  dropVerifications: boolean;
  /** The only stream (fails when there is not exactly one). */
  stream(): FakeStream;
  /** A new signing key, not in the JWKS until `publish()` (a rotation's next key). */
  addKey(): Promise<{ kid: string; privateKey: CryptoKey; publish(): void }>;
  /** Makes every issued token unknown (the next SSF call answers 401). */
  forgetTokens(): void;
  /** An RFC 9068 access token for `aud` of grant `grantId` with status list index `idx`. */
  accessToken(aud: string, grantId: string, idx: number, claims?: JWTPayload): Promise<string>;
  /** Sets entry `idx` of the status list (1 = revoked). */
  setStatus(idx: number, value: number): void;
  /** Queues (poll) or pushes a session-revoked event for `grantId` on every stream; resolves to the jtis. */
  revoke(grantId: string): Promise<string[]>;
  /** A SET as the contract says, with `opts` changing it: the test's way to forge bad ones. */
  signSet(aud: string | string[], events: Record<string, unknown>, subId: unknown, opts?: SetOptions): Promise<{ jti: string; jws: string }>;
  /** Queues or pushes `jws` under `jti` on `stream`. */
  deliver(stream: FakeStream, jti: string, jws: string): Promise<void>;
  close(): Promise<void>;
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function send(res: http.ServerResponse, status: number, body?: unknown, type = 'application/json'): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, body === undefined ? {} : { 'Content-Type': type });
  res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function startFakeTransmitter(): Promise<FakeTransmitter> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = 'fake-ssf-1';
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jwks: JWK[] = [jwk];
  const statuses = new Uint8Array(16);
  const tokens = new Set<string>();
  const waiting = new Map<string, Array<() => void>>();
  let counter = 0;
  const sockets = new Set<import('node:net').Socket>();

  const wake = (streamId: string) => {
    for (const w of waiting.get(streamId) ?? []) w();
    waiting.delete(streamId);
  };

  async function statusListToken(uri: string): Promise<string> {
    const iat = nowSeconds();
    return new SignJWT({ status_list: { bits: 1, lst: deflateSync(statuses).toString('base64url') }, ttl: 1 })
      .setProtectedHeader({ alg: 'RS256', typ: 'statuslist+jwt', kid })
      .setIssuer(fake.url)
      .setSubject(uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(privateKey);
  }

  function bearerOwner(req: http.IncomingMessage): string | undefined {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return m && tokens.has(m[1]) ? CLIENT.clientId : undefined;
  }

  function configurationOf(s: FakeStream) {
    return {
      stream_id: s.id,
      iss: fake.url,
      aud: s.aud,
      events_supported: [SESSION_REVOKED, VERIFICATION],
      events_requested: s.eventsRequested ?? [SESSION_REVOKED, VERIFICATION],
      events_delivered: s.eventsRequested ?? [SESSION_REVOKED, VERIFICATION],
      delivery: { method: s.delivery.method, endpoint_url: s.delivery.endpoint_url },
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', fake.url);
    const path = url.pathname;
    fake.requests.push(`${req.method} ${path}`);
    if (path === '/.well-known/jwks.json') return send(res, 200, { keys: jwks });
    if (path === '/statuslists/1') return send(res, 200, await statusListToken(`${fake.url}/statuslists/1`), 'application/statuslist+jwt');
    if (fake.down) return send(res, 503, { error: 'temporarily_unavailable' });
    if (path === '/.well-known/oauth-authorization-server') return send(res, 200, { issuer: fake.url, token_endpoint: `${fake.url}/token`, jwks_uri: `${fake.url}/.well-known/jwks.json` });
    if (path === '/.well-known/ssf-configuration') {
      return send(res, 200, {
        spec_version: '1_0',
        issuer: fake.url,
        jwks_uri: `${fake.url}/.well-known/jwks.json`,
        delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'],
        configuration_endpoint: `${fake.url}/ssf/streams`,
        status_endpoint: `${fake.url}/ssf/status`,
        verification_endpoint: `${fake.url}/ssf/verify`,
        authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
        default_subjects: 'ALL',
      });
    }
    if (path === '/token' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
      fake.tokenRequests.push({ form, basic });
      if (basic !== `${CLIENT.clientId}:${CLIENT.clientSecret}`) return send(res, 401, { error: 'invalid_client' });
      if (form.grant_type !== 'client_credentials' || form.scope !== 'ssf') return send(res, 400, { error: 'invalid_scope' });
      const token = `tok-${++counter}`;
      tokens.add(token);
      return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: fake.tokenLifetime, scope: 'ssf' });
    }
    if (!path.startsWith('/ssf/')) return send(res, 404);
    if (!bearerOwner(req)) return send(res, 401, { error: 'invalid_token' });
    if (path === '/ssf/streams') {
      if (req.method === 'POST') {
        const body = await readJson(req);
        if (fake.refuseStreams) return send(res, 400, fake.refuseStreams);
        const id = `stream-${++counter}`;
        const delivery = { ...(body.delivery as FakeStream['delivery']) };
        if (delivery.method === 'urn:ietf:rfc:8936') delivery.endpoint_url = `${fake.url}/ssf/streams/${id}/poll`;
        const s: FakeStream = { id, owner: CLIENT.clientId, aud: body.aud as string, delivery, eventsRequested: body.events_requested as string[], pending: new Map(), polls: [], pushes: [], configurations: [body] };
        fake.streams.set(id, s);
        return send(res, 201, configurationOf(s));
      }
      if (req.method === 'GET') {
        const s = fake.streams.get(url.searchParams.get('stream_id') ?? '');
        return s ? send(res, 200, configurationOf(s)) : send(res, 404);
      }
      if (req.method === 'PATCH' || req.method === 'PUT') {
        const body = await readJson(req);
        const s = fake.streams.get(String(body.stream_id));
        if (!s) return send(res, 404);
        s.configurations.push(body);
        if (body.delivery) s.delivery = { ...(body.delivery as FakeStream['delivery']) };
        return send(res, 200, configurationOf(s));
      }
      if (req.method === 'DELETE') {
        const id = url.searchParams.get('stream_id') ?? '';
        if (!fake.streams.delete(id)) return send(res, 404);
        wake(id);
        return send(res, 204);
      }
    }
    if (path === '/ssf/verify' && req.method === 'POST') {
      const body = await readJson(req);
      const s = fake.streams.get(String(body.stream_id));
      if (!s) return send(res, 404);
      send(res, 204);
      if (!fake.dropVerifications) {
        const set = await fake.signSet(s.aud, { [VERIFICATION]: body.state === undefined ? {} : { state: body.state } }, { format: 'opaque', id: s.id });
        await fake.deliver(s, set.jti, set.jws);
      }
      return;
    }
    const poll = /^\/ssf\/streams\/([^/]+)\/poll$/.exec(path);
    if (poll && req.method === 'POST') {
      const s = fake.streams.get(poll[1]);
      if (!s) return send(res, 404);
      const body = await readJson(req);
      s.polls.push(body);
      for (const jti of (body.ack as string[] | undefined) ?? []) s.pending.delete(jti);
      for (const jti of Object.keys((body.setErrs as object | undefined) ?? {})) s.pending.delete(jti);
      if (s.pending.size === 0 && body.returnImmediately !== true) {
        // RFC 8936 §2.4: a long poll is held until an event arrives or the hold ends.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, fake.holdSeconds * 1000);
          const list = waiting.get(s.id) ?? [];
          list.push(() => {
            clearTimeout(timer);
            resolve();
          });
          waiting.set(s.id, list);
          res.on('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      if (fake.down) return send(res, 503, { error: 'temporarily_unavailable' });
      if (!fake.streams.has(s.id)) return send(res, 404);
      const max = typeof body.maxEvents === 'number' ? body.maxEvents : 100;
      const sets = Object.fromEntries([...s.pending].slice(0, max));
      return send(res, 200, { sets, moreAvailable: s.pending.size > max });
    }
    return send(res, 404);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const fake: FakeTransmitter = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    streams: new Map(),
    requests: [],
    tokenRequests: [],
    down: false,
    holdSeconds: 1,
    tokenLifetime: 3600,
    dropVerifications: false,
    stream() {
      expect(fake.streams.size).toBe(1);
      return [...fake.streams.values()][0];
    },
    forgetTokens: () => tokens.clear(),
    async addKey() {
      const pair = await generateKeyPair('RS256');
      const next = `fake-ssf-${++counter}`;
      const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: next, alg: 'RS256', use: 'sig' };
      return { kid: next, privateKey: pair.privateKey, publish: () => void jwks.push(publicJwk) };
    },
    accessToken(aud, grantId, idx, claims = {}) {
      const iat = nowSeconds();
      return new SignJWT({ client_id: 'app', sub: 'user-1', jti: `at-${++counter}`, iat, exp: iat + 300, iss: fake.url, aud, grant_id: grantId, scope: 'read', status: { status_list: { idx, uri: `${fake.url}/statuslists/1` } }, ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
        .sign(privateKey);
    },
    setStatus(idx, value) {
      const bit = 1 << idx % 8;
      statuses[Math.floor(idx / 8)] = value ? statuses[Math.floor(idx / 8)] | bit : statuses[Math.floor(idx / 8)] & ~bit;
    },
    async revoke(grantId) {
      const jtis: string[] = [];
      for (const s of fake.streams.values()) {
        const event = { event_timestamp: nowSeconds(), initiating_entity: 'admin', reason_admin: { en: 'test' }, client_id: 'app', resource: [s.aud].flat() };
        const set = await fake.signSet(s.aud, { [SESSION_REVOKED]: event }, { format: 'opaque', id: grantId });
        jtis.push(set.jti);
        await fake.deliver(s, set.jti, set.jws);
      }
      return jtis;
    },
    async signSet(aud, events, subId, opts = {}) {
      const jti = `set-${++counter}`;
      const claims: Record<string, unknown> = { iss: fake.url, aud, jti, iat: nowSeconds(), sub_id: subId, events, ...opts.claims };
      for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
      const jws = await new SignJWT(claims)
        .setProtectedHeader({ alg: opts.alg ?? 'RS256', typ: 'secevent+jwt', kid, ...opts.header })
        .sign(opts.key ?? privateKey);
      return { jti: (claims.jti as string | undefined) ?? jti, jws };
    },
    async deliver(s, jti, jws) {
      if (s.delivery.method === 'urn:ietf:rfc:8936') {
        s.pending.set(jti, jws);
        wake(s.id);
        return;
      }
      // RFC 8935 §2: POST the SET with the stream's Authorization.
      const res = await fetch(s.delivery.endpoint_url!, {
        method: 'POST',
        headers: { 'Content-Type': 'application/secevent+jwt', Accept: 'application/json', ...(s.delivery.authorization_header ? { Authorization: s.delivery.authorization_header } : {}) },
        body: jws,
      });
      s.pushes.push({ jti, status: res.status, body: await res.text() });
    },
    async close() {
      for (const list of waiting.values()) for (const w of list) w();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

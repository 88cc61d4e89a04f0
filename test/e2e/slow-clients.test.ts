/**
 * Slow clients and many connections (src/http/server.ts, the server factory main.ts uses too).
 * Regressions (issue #10, item 9): a slow body held a connection for ~55 s, and one address could
 * open as many connections as it liked.
 */
import net from 'node:net';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const FORM = 'application/x-www-form-urlencoded';

/** A raw connection: what the server sent, whether it closed, and how many bytes we managed to send. */
function connect(app: TestApp, localAddress = '127.0.0.1') {
  const url = new URL(app.url);
  const socket = net.connect({ port: Number(url.port), host: url.hostname, localAddress });
  const state = { received: '', closed: false, sent: 0 };
  socket.on('data', (d: Buffer) => (state.received += d.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => ((state.closed = true), resolve())));
  socket.on('error', () => undefined);
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, state, closed, connected };
}

/** Writes `bytes` one character every `everyMs` until done or closed. */
function trickle(conn: ReturnType<typeof connect>, bytes: string, everyMs: number): void {
  const timer = setInterval(() => {
    if (conn.state.closed || conn.state.sent >= bytes.length) return clearInterval(timer);
    conn.socket.write(bytes[conn.state.sent++]);
  }, everyMs);
  conn.socket.on('close', () => clearInterval(timer));
}

describe('slow requests are cut off (HEADERS_TIMEOUT=1, REQUEST_TIMEOUT=2)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { HEADERS_TIMEOUT: '1', REQUEST_TIMEOUT: '2' } });
  });
  afterAll(() => app.close());

  it('answers a token request whose body trickles in with 408 and closes it before the body is complete', async () => {
    const conn = connect(app);
    await conn.connected;
    const body = 'grant_type=client_credentials&client_id=x&client_secret=y&padding=' + 'a'.repeat(40);
    conn.socket.write(`POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: ${body.length}\r\n\r\n`);
    trickle(conn, body, 100); // ~10 s for the whole body
    await conn.closed;
    expect(conn.state.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(conn.state.sent).toBeLessThan(body.length);
  });

  it('answers headers that trickle in with 408 and closes the connection before they are complete', async () => {
    const conn = connect(app);
    await conn.connected;
    const head = `POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nX-Padding: ${'a'.repeat(80)}\r\n\r\n`;
    trickle(conn, head, 50); // ~6 s for the headers
    await conn.closed;
    expect(conn.state.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(conn.state.sent).toBeLessThan(head.length);
  });

  it('still serves a request sent at an ordinary pace', async () => {
    const res = await app.request('/.well-known/jwks.json');
    expect(res.status).toBe(200);
  });
});

describe('connections per address are capped (MAX_CONNECTIONS_PER_ADDRESS=20)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_CONNECTIONS_PER_ADDRESS: '20', HEADERS_TIMEOUT: '10', REQUEST_TIMEOUT: '10' } });
  });
  afterAll(() => app.close());

  it('closes a slowloris of 300 sockets from 127.0.0.2 down to 20, while 127.0.0.1 is served', async () => {
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
    const creds = await app.client({ scopes: ['read'] });
    const loris = Array.from({ length: 300 }, () => connect(app, '127.0.0.2'));
    await Promise.all(loris.map((c) => c.connected.catch(() => undefined)));
    for (const c of loris) c.socket.write('POST /oauth/token HTTP/1.1\r\nHost: x\r\n');
    // The sockets over the cap are closed as they are accepted; the 20 others wait for their headers.
    await waitFor(() => loris.filter((c) => c.state.closed).length >= 280, 5_000);
    expect(loris.filter((c) => !c.state.closed)).toHaveLength(20);

    const served = await app.token({ grant_type: 'client_credentials', scope: 'read' }, { basic: [creds.client_id, creds.client_secret] });
    expect(served.status).toBe(200);
    for (const c of loris) c.socket.destroy();
  });

  it('counts again once connections close', async () => {
    const first = Array.from({ length: 20 }, () => connect(app, '127.0.0.3'));
    await Promise.all(first.map((c) => c.connected));
    for (const c of first) c.socket.destroy();
    await Promise.all(first.map((c) => c.closed));
    const again = connect(app, '127.0.0.3');
    await again.connected;
    again.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await again.closed;
    expect(again.state.received).toMatch(/^HTTP\/1\.1 200 /);
  });
});

/** Polls `done` until it holds, or gives up after `ms` (the expectation that follows then fails). */
async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

describe('HEADERS_TIMEOUT, REQUEST_TIMEOUT and MAX_CONNECTIONS_PER_ADDRESS', () => {
  it('default to 5 s, 10 s and 256 connections', () => {
    expect(loadConfig({})).toMatchObject({ headersTimeout: 5000, requestTimeout: 10000, maxConnectionsPerAddress: 256 });
  });

  it('refuse a request timeout shorter than the headers timeout, naming it', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT: '5', REQUEST_TIMEOUT: '2' })).toThrow(ConfigError);
    expect(() => loadConfig({ HEADERS_TIMEOUT: '5', REQUEST_TIMEOUT: '2' })).toThrow(/REQUEST_TIMEOUT/);
  });
});

import { Writable } from 'node:stream';
import { createLogger } from '../../src/deps.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** A pino destination that keeps every line it is given, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

/**
 * Issue #10 item 10: the redaction of `code` (meant for authorization codes) turned every logged
 * error code into "[redacted]". The OAuth error is logged under `error`, the precise reason under
 * `detail`; authorization codes, secrets, passwords, refresh tokens and Authorization headers
 * stay redacted.
 */
describe('the log (pino, with the redaction Grantor configures)', () => {
  let app: TestApp;
  const log = capture();
  beforeAll(async () => {
    app = await startTestApp({ logger: createLogger('debug', log.stream) });
    await app.resource({ identifier: 'https://api.example.com', scopes: [{ name: 'read' }] });
  });
  afterAll(() => app.close());

  const refusals = () => log.lines.filter((l) => l.msg === 'request refused');

  it('issue #10 item 10: names the OAuth error of a refusal on the lean token path, and why', async () => {
    const creds = await app.client({ scopes: ['read'] });
    log.lines.length = 0;
    const res = await app.token({ grant_type: 'client_credentials' }, { basic: [creds.client_id, 'wrong secret'] });
    expect(res.status).toBe(401);
    expect(refusals()).toEqual([expect.objectContaining({ error: 'invalid_client', detail: 'bad secret', path: '/oauth/token' })]);
    expect(JSON.stringify(log.lines)).not.toContain('wrong secret');
  });

  it('issue #10 item 10: names the OAuth error of a refusal on a koa route', async () => {
    log.lines.length = 0;
    const res = await app.request('/oauth/revoke', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'token=x&client_id=nobody&client_secret=guess' });
    expect(res.status).toBe(401);
    expect(refusals()).toEqual([expect.objectContaining({ error: 'invalid_client', detail: 'unknown client', path: '/oauth/revoke' })]);
    expect(JSON.stringify(log.lines)).not.toContain('guess');
  });

  it('keeps authorization codes, secrets, client assertions, passwords, refresh tokens and Authorization headers out of the log', () => {
    const lines = capture();
    const logger = createLogger('info', lines.stream);
    logger.info(
      {
        code: 'the-authorization-code',
        client_secret: 'the-secret',
        client_assertion: 'the-client-assertion',
        password: 'the-password',
        refresh_token: 'the-refresh-token',
        authorization: 'Basic the-basic-credentials',
        form: { code: 'nested-code', client_secret: 'nested-secret', client_assertion: 'nested-assertion', refresh_token: 'nested-refresh', password: 'nested-password' },
        req: { headers: { authorization: 'Bearer the-bearer-token' } },
      },
      'hostile',
    );
    const written = JSON.stringify(lines.lines);
    expect(lines.lines).toHaveLength(1);
    for (const value of ['the-authorization-code', 'the-secret', 'the-client-assertion', 'the-password', 'the-refresh-token', 'the-basic-credentials', 'nested-', 'the-bearer-token']) {
      expect(written).not.toContain(value);
    }
  });
});

import http from 'node:http';
import { pino, type Logger } from 'pino';
import { OAuthError } from '../../src/errors.js';
import { prepareDocument, type PreparedDocument } from '../../src/http/prepared-document.js';
import { leanGet } from '../../src/http/prepared-route.js';
import { recordUncaught, throwingLogger } from '../helpers/faults.js';
import { rawRequest } from '../helpers/raw-http.js';

/**
 * leanGet() answers synchronously when the route has its document at hand and through a promise
 * when it had to fetch it (issue #14 item 4); both ways, a refusal of the route is answered and a
 * fault while answering neither ends the process nor leaves the connection hanging.
 */
describe('leanGet', () => {
  const doc = prepareDocument({ source: 1, body: '{"keys":[]}', contentType: 'application/json', headers: { 'Cache-Control': 'public, max-age=60' } });

  async function serve(current: () => PreparedDocument | Promise<PreparedDocument>, logger: Logger = pino({ level: 'silent' })) {
    const recorded: unknown[][] = [];
    const route = leanGet({ path: '/doc', gzip: false, current }, { logger, metrics: { recordRequest: (...args: unknown[]) => void recorded.push(args) } });
    const server = http.createServer((req, res) => {
      if (!route(req, res)) res.writeHead(404).end('koa would answer');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return { url, recorded, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it.each([
    ['at hand', () => doc],
    ['fetched', () => Promise.resolve(doc)],
  ])('answers a document %s, with its ETag, and records the request', async (_how, current) => {
    const s = await serve(current);
    try {
      const res = await rawRequest(s.url, '/doc');
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"keys":[]}');
      expect(res.headers.etag).toBe(doc.identity.etag);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const again = await rawRequest(s.url, '/doc', { headers: { 'If-None-Match': doc.identity.etag } });
      expect(again.status).toBe(304);
      expect(s.recorded.map((r) => r.slice(0, 3))).toEqual([['GET', '/doc', 200], ['GET', '/doc', 304]]);
    } finally {
      await s.close();
    }
  });

  it.each([
    ['throws', () => { throw new OAuthError('temporarily_unavailable', 'the database is not answering', { status: 503 }); }],
    ['rejects', () => Promise.reject(new OAuthError('temporarily_unavailable', 'the database is not answering', { status: 503 }))],
  ])('answers the refusal when the route %s', async (_how, current) => {
    const s = await serve(current);
    try {
      const res = await rawRequest(s.url, '/doc');
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'temporarily_unavailable' });
      expect(s.recorded).toEqual([['GET', '/doc', 503, expect.any(Number), 'temporarily_unavailable']]);
    } finally {
      await s.close();
    }
  });

  describe('a fault after the answer was sent', () => {
    const uncaught = recordUncaught();

    it.each([
      ['at hand', () => doc],
      ['fetched', () => Promise.resolve(doc)],
    ])('keeps the answer to a document %s and serves on when the logger throws', async (_how, current) => {
      const s = await serve(current, throwingLogger);
      try {
        for (let i = 0; i < 2; i++) {
          const res = await rawRequest(s.url, '/doc');
          expect(res.status).toBe(200);
          expect(res.text).toBe('{"keys":[]}');
        }
        await new Promise((resolve) => setTimeout(resolve, 50)); // let a stray error surface
        expect(uncaught.errors).toEqual([]);
      } finally {
        await s.close();
      }
    });
  });

  it('leaves anything but a plain GET or HEAD of its exact path to koa', async () => {
    const s = await serve(() => doc);
    try {
      expect((await rawRequest(s.url, '/doc?x=1')).status).toBe(404);
      expect((await rawRequest(s.url, '/doc', { method: 'POST', body: 'a' })).status).toBe(404);
      expect((await rawRequest(s.url, '/doc', { method: 'HEAD' })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

import http from 'node:http';
import { pino, type Logger } from 'pino';
import { leanPost } from '../../src/http/lean-post.js';
import { failing, recordUncaught, throwingLogger } from '../helpers/faults.js';
import { rawRequest } from '../helpers/raw-http.js';

describe('leanPost', () => {
  async function serve(
    handle: () => Promise<object>,
    faults: { logger?: Logger; recordRequest?: () => void } = {},
  ): Promise<{ url: string; recorded: unknown[][]; close(): Promise<void> }> {
    const recorded: unknown[][] = [];
    const route = leanPost({
      path: '/p',
      limit: 100,
      trustProxy: { hops: 0 },
      logger: faults.logger ?? pino({ level: 'silent' }),
      metrics: { recordRequest: faults.recordRequest ?? ((...args: unknown[]) => void recorded.push(args)) },
      admit: async () => undefined,
      handle,
    });
    const server = http.createServer((req, res) => {
      if (!route(req, res)) res.writeHead(404).end('koa would answer');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return { url, recorded, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const post = (url: string, body = 'a=1') => rawRequest(url, '/p', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });

  it("answers the handler's JSON with no-store and records the request", async () => {
    const s = await serve(async () => ({ ok: true }));
    try {
      const res = await post(s.url);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ ok: true });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(s.recorded).toEqual([['POST', '/p', 200, expect.any(Number), undefined]]);
    } finally {
      await s.close();
    }
  });

  it('answers a fault of its own with a bare server_error instead of ending the process', async () => {
    // An answer JSON cannot encode fails after the handler, outside the endpoint's error rendering.
    const s = await serve(async () => ({ n: 1n }));
    try {
      const res = await post(s.url);
      expect(res.status).toBe(500);
      expect(res.json()).toEqual({ error: 'server_error', error_description: expect.any(String) });
      expect(res.text).not.toMatch(/BigInt|at /);
    } finally {
      await s.close();
    }
  });

  describe('a fault after the answer was sent (regression, issue #10 item 8: res.end twice ended the process)', () => {
    const uncaught = recordUncaught();

    it.each([
      ['the metrics throw', { recordRequest: failing }],
      ['the logger throws', { logger: throwingLogger }],
    ])('keeps the answer and serves on when %s', async (_what, faults) => {
      const s = await serve(async () => ({ ok: true }), faults);
      try {
        for (let i = 0; i < 2; i++) {
          const res = await post(s.url);
          expect(res.status).toBe(200);
          expect(res.json()).toEqual({ ok: true });
        }
        await new Promise((resolve) => setTimeout(resolve, 50)); // let a stray error event surface
        expect(uncaught.errors).toEqual([]);
      } finally {
        await s.close();
      }
    });
  });
});

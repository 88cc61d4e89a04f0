import { fetchDocument, type OutboundOptions } from '../../../src/outbound/fetch-document.js';
import { createDocumentCache } from '../../../src/outbound/document-cache.js';
import { startHttpsServer, type TestHttpsServer } from '../../helpers/https-server.js';

describe('fetchDocument: outbound fetches on someone else\'s word (standards.md "Outbound fetches")', () => {
  let server: TestHttpsServer;
  const pending = new Set<() => void>();
  beforeAll(async () => {
    server = await startHttpsServer((req, res) => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      if (path === '/doc') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
        return res.end('{"hello":"world"}');
      }
      if (path === '/redirect') {
        res.writeHead(302, { location: '/doc' });
        return res.end();
      }
      if (path === '/big') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(`"${'x'.repeat(10_000)}"`);
      }
      if (path === '/big-chunked') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 20; i++) res.write('x'.repeat(1000));
        return res.end();
      }
      if (path === '/slow') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"slow":');
        pending.add(() => res.end('true}'));
        return undefined;
      }
      res.writeHead(404);
      res.end();
    });
  });
  afterAll(async () => {
    for (const p of pending) p();
    await server.close();
  });

  const opts = (over: Partial<OutboundOptions> = {}): OutboundOptions => ({ allowedHosts: new Set([server.host]), timeoutMs: 2000, maxBytes: 5120, ...over });

  it('fetches over https from a loopback server named in the allow-list, trusting its CA through NODE_EXTRA_CA_CERTS', async () => {
    const r = await fetchDocument(`${server.origin}/doc`, opts());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(JSON.parse(r.document.body.toString())).toEqual({ hello: 'world' });
    expect(r.document.cacheControl).toBe('max-age=600');
  });

  it('refuses loopback when the host is not on the allow-list: the resolved address is checked', async () => {
    const r = await fetchDocument(`${server.origin}/doc`, opts({ allowedHosts: new Set() }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('loopback') });
  });

  it('refuses an IP literal in a refused range (no lookup happens for a literal)', async () => {
    for (const host of ['127.0.0.1', '[::1]', '169.254.169.254', '[::ffff:127.0.0.1]', '10.0.0.1', '[fd00:ec2::254]']) {
      const r = await fetchDocument(`https://${host}:${server.port}/doc`, opts({ allowedHosts: new Set() }));
      expect(r).toEqual({ ok: false, reason: expect.stringContaining('address refused') });
    }
  });

  it('refuses a public-looking name that resolves to a private or loopback address (DNS tricks)', async () => {
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const r = await fetchDocument(`https://app.example:${server.port}/doc`, opts({ allowedHosts: new Set(), resolve }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('127.0.0.1 is loopback') });
  });

  it('refuses a name with several addresses when any one of them is refused', async () => {
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    const r = await fetchDocument(`https://app.example:${server.port}/doc`, opts({ allowedHosts: new Set(), resolve }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('169.254.169.254') });
  });

  it('connects to the address it checked: the name is resolved once, never again by the socket', async () => {
    let lookups = 0;
    // A rebinding resolver: public the first time, loopback after. Only the first answer is used.
    const resolve = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]);
    const r = await fetchDocument(`${server.origin}/doc`, opts({ resolve }));
    expect(r.ok).toBe(true);
    expect(lookups).toBe(1);
  });

  it('refuses http:// even for an allowed host', async () => {
    const r = await fetchDocument(`http://${server.host}/doc`, opts());
    expect(r).toEqual({ ok: false, reason: 'not https' });
  });

  it('refuses credentials in the URL', async () => {
    const r = await fetchDocument(`https://user:pw@${server.host}/doc`, opts());
    expect(r).toEqual({ ok: false, reason: 'credentials in the URL' });
  });

  it('does not follow a redirect', async () => {
    const r = await fetchDocument(`${server.origin}/redirect`, opts());
    expect(r).toEqual({ ok: false, reason: 'status 302' });
  });

  it('gives up on a body larger than the limit, declared or streamed', async () => {
    expect(await fetchDocument(`${server.origin}/big`, opts())).toEqual({ ok: false, reason: 'larger than 5120 bytes' });
    expect(await fetchDocument(`${server.origin}/big-chunked`, opts())).toEqual({ ok: false, reason: 'larger than 5120 bytes' });
  });

  it('gives up on a server that does not finish within the time limit', async () => {
    const r = await fetchDocument(`${server.origin}/slow`, opts({ timeoutMs: 300 }));
    expect(r).toEqual({ ok: false, reason: 'no complete answer within 300 ms' });
  });

  it('fails cleanly on a certificate it does not trust (the host name does not match)', async () => {
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const r = await fetchDocument(`https://other.test:${server.port}/doc`, opts({ allowedHosts: new Set([`other.test:${server.port}`]), resolve }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('fetch failed') });
  });
});

describe('createDocumentCache: bounded, honouring Cache-Control, one fetch per URL at a time', () => {
  const doc = (cacheControl?: string) => ({ ok: true as const, document: { body: Buffer.from('{}'), contentType: 'application/json', cacheControl } });
  const setup = () => {
    let now = 1000;
    const cache = createDocumentCache({ maxEntries: 2, minTtl: 60, maxTtl: 3600, defaultTtl: 300, failureTtl: 10, maxInFlight: 3, now: () => now });
    return { cache, advance: (s: number) => (now += s) };
  };

  it('keeps a document for its max-age, then fetches it again', async () => {
    const { cache, advance } = setup();
    let fetches = 0;
    const fetch = async () => (fetches++, doc('public, max-age=120'));
    await cache.get('u', fetch);
    advance(119);
    await cache.get('u', fetch);
    expect(fetches).toBe(1);
    advance(1);
    await cache.get('u', fetch);
    expect(fetches).toBe(2);
  });

  it('clamps max-age to the floor and the ceiling; no-store gets the floor', async () => {
    for (const [cc, ttl] of [['max-age=1', 60], ['max-age=999999', 3600], ['no-store', 60], ['no-cache, max-age=900', 60], [undefined, 300]] as const) {
      const { cache, advance } = setup();
      let fetches = 0;
      const fetch = async () => (fetches++, doc(cc));
      await cache.get('u', fetch);
      advance(ttl - 1);
      await cache.get('u', fetch);
      expect([cc, fetches]).toEqual([cc, 1]);
      advance(1);
      await cache.get('u', fetch);
      expect([cc, fetches]).toEqual([cc, 2]);
    }
  });

  it('shares one fetch among concurrent gets of the same URL', async () => {
    const { cache } = setup();
    let fetches = 0;
    const fetch = async () => (fetches++, await new Promise((r) => setTimeout(r, 10)), doc());
    await Promise.all(Array.from({ length: 20 }, () => cache.get('u', fetch)));
    expect(fetches).toBe(1);
  });

  it('runs at most maxInFlight fetches at once; a get past it fails at once and is not remembered', async () => {
    const { cache } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let fetches = 0;
    const slow = async () => (fetches++, await gate, doc());
    const first = ['a', 'b', 'c'].map((u) => cache.get(u, slow));
    expect(await cache.get('d', slow)).toEqual({ ok: false, reason: 'too many outbound fetches under way' });
    release();
    await Promise.all(first);
    expect((await cache.get('d', slow)).ok).toBe(true);
    expect(fetches).toBe(4);
  });

  it('remembers a failure briefly', async () => {
    const { cache, advance } = setup();
    let fetches = 0;
    const fetch = async () => (fetches++, { ok: false as const, reason: 'status 500' });
    await cache.get('u', fetch);
    await cache.get('u', fetch);
    expect(fetches).toBe(1);
    advance(10);
    await cache.get('u', fetch);
    expect(fetches).toBe(2);
  });

  it('holds at most maxEntries URLs, dropping the oldest', async () => {
    const { cache } = setup();
    let fetches = 0;
    const fetch = async () => (fetches++, doc());
    await cache.get('a', fetch);
    await cache.get('b', fetch);
    await cache.get('c', fetch);
    await cache.get('b', fetch);
    expect(fetches).toBe(3);
    await cache.get('a', fetch);
    expect(fetches).toBe(4);
  });
});

import http from 'node:http';
import Koa from 'koa';
import { ConfigError, loadConfig } from '../../src/config.js';
import { clientAddress, proxyTrust, resolveClientAddress } from '../../src/http/client-address.js';
import { rawRequest } from '../helpers/raw-http.js';

describe('clientAddress: the right-most address of the way in that is not a trusted proxy', () => {
  const none = proxyTrust({ hops: 0 });
  const oneHop = proxyTrust({ hops: 1 });
  const twoHops = proxyTrust({ hops: 2 });
  const named = proxyTrust({ proxies: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'] });

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress('192.0.2.1', '198.51.100.7', none)).toBe('192.0.2.1');
  });

  it('takes the right-most X-Forwarded-For entry behind one trusted hop (TRUST_PROXY=true), not the left-most the client wrote', () => {
    // Regression (issue #10, item 4): the left-most entry was taken, so `<random>, 10.0.0.9` evaded every per-address limit.
    expect(clientAddress('127.0.0.1', '203.0.113.99, 10.0.0.9', oneHop)).toBe('10.0.0.9');
    expect(clientAddress('127.0.0.1', '10.0.0.9', oneHop)).toBe('10.0.0.9');
  });

  it('counts hops from the socket peer (hop 1) leftwards', () => {
    expect(clientAddress('10.0.0.1', 'spoofed, 198.51.100.7, 10.0.0.5', twoHops)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.1', '198.51.100.7', twoHops)).toBe('198.51.100.7');
  });

  it('skips named proxies and CIDRs, IPv4 and IPv6, and stops at the first address that is not one', () => {
    expect(clientAddress('127.0.0.1', '203.0.113.5, 198.51.100.7, 10.1.2.3, 10.200.0.1', named)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '2001:db8::1, fd12::9', named)).toBe('2001:db8::1');
    expect(clientAddress('192.0.2.1', '198.51.100.7', named)).toBe('192.0.2.1'); // the peer is no proxy of ours
  });

  it('answers the same for an address asked about again (its trust is remembered), and for thousands of others', () => {
    const trust = proxyTrust({ proxies: ['10.0.0.0/8'] });
    for (let round = 0; round < 3; round++) {
      expect(trust.trusts('10.1.2.3', 1)).toBe(true);
      expect(trust.trusts('11.1.2.3', 1)).toBe(false);
      expect(trust.trusts('', 1)).toBe(false);
    }
    // Past the memory's bound it starts afresh, answers unchanged.
    for (let i = 0; i < 5000; i++) expect(trust.trusts(`10.0.${i >> 8}.${i & 255}`, 2)).toBe(true);
    expect(trust.trusts('11.1.2.3', 1)).toBe(false);
    expect(trust.trusts('10.1.2.3', 1)).toBe(true);
  });

  it('takes the left-most entry when every hop is a trusted proxy', () => {
    expect(clientAddress('127.0.0.1', '10.0.0.2, 10.0.0.3', named)).toBe('10.0.0.2');
  });

  it('never uses a malformed entry as an address: the last trusted hop stands', () => {
    expect(clientAddress('127.0.0.1', 'not-an-ip', oneHop)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '198.51.100.7, ', oneHop)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', 'x, 10.0.0.9', named)).toBe('10.0.0.9');
    expect(clientAddress('10.0.0.1', '198.51.100.7, <script>', twoHops)).toBe('10.0.0.1');
    expect(clientAddress('127.0.0.1', '', oneHop)).toBe('127.0.0.1');
  });

  it('reads entries with a port or in brackets', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.7:4711', oneHop)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '[2001:db8::7]:443', oneHop)).toBe('2001:db8::7');
    expect(clientAddress('127.0.0.1', '[2001:db8::7]', oneHop)).toBe('2001:db8::7');
  });

  it('gives IPv4-mapped IPv6 addresses in their IPv4 form, and matches them against IPv4 rules', () => {
    expect(clientAddress('::ffff:192.0.2.1', undefined, none)).toBe('192.0.2.1');
    expect(clientAddress('::ffff:127.0.0.1', '198.51.100.7', named)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '::ffff:198.51.100.7', oneHop)).toBe('198.51.100.7');
  });
});

describe('TRUST_PROXY', () => {
  const trust = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;

  it('reads false, true, a hop count, and addresses or CIDRs', () => {
    expect(loadConfig({}).trustProxy).toEqual({ hops: 0 });
    expect(trust('false')).toEqual({ hops: 0 });
    expect(trust('true')).toEqual({ hops: 1 });
    expect(trust('2')).toEqual({ hops: 2 });
    expect(trust('10.0.0.1, 10.1.0.0/16,fd00::/8')).toEqual({ proxies: ['10.0.0.1', '10.1.0.0/16', 'fd00::/8'] });
  });

  it.each(['yes', '10.0.0.0/33', '10.0.0.1/8/1', 'fd00::/129', '10.0.0.1,,10.0.0.2', 'example.com', '999'])('refuses %j with a ConfigError naming TRUST_PROXY', (value) => {
    expect(() => trust(value)).toThrow(ConfigError);
    expect(() => trust(value)).toThrow(/TRUST_PROXY/);
  });
});

describe('resolveClientAddress (koa)', () => {
  async function seen(trust: ReturnType<typeof proxyTrust>, headers: Record<string, string>): Promise<{ ip: string; secure: boolean }> {
    const app = new Koa();
    app.use(resolveClientAddress(trust));
    app.use((ctx) => {
      ctx.body = { ip: ctx.ip, secure: ctx.secure };
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      return (await rawRequest(`http://127.0.0.1:${(server.address() as { port: number }).port}`, '/', { headers })).json();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('sets ctx.ip and believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const headers = { 'X-Forwarded-For': '203.0.113.9, 198.51.100.7', 'X-Forwarded-Proto': 'https' };
    expect(await seen(proxyTrust({ hops: 1 }), headers)).toEqual({ ip: '198.51.100.7', secure: true });
    expect(await seen(proxyTrust({ proxies: ['10.0.0.0/8'] }), headers)).toEqual({ ip: '127.0.0.1', secure: false });
    expect(await seen(proxyTrust({ hops: 0 }), headers)).toEqual({ ip: '127.0.0.1', secure: false });
  });
});

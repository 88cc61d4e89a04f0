import http, { type RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import { proxyTrust, type ProxyTrust } from './client-address.js';
import { addressKey, unmapped } from '../lib/ip-address.js';

export type ServerSettings = Pick<Config, 'headersTimeout' | 'requestTimeout' | 'maxConnectionsPerAddress' | 'trustProxy'>;

/**
 * The node:http server every Grantor listener runs on (src/main.ts, and the tests through
 * test/helpers/test-app.ts), with the edge's limits against slow clients:
 *
 * - HEADERS_TIMEOUT for a request's headers (a silent connection included) and REQUEST_TIMEOUT for
 *   the whole request with its body; past either node answers 408 and closes. node checks them
 *   only every `connectionsCheckingInterval` (30 s by default, which let a slow body live ~55 s),
 *   so the check runs four times per HEADERS_TIMEOUT, at least once a second.
 * - MAX_CONNECTIONS_PER_ADDRESS open connections per peer address; more are closed at once, so a
 *   slowloris from one address cannot take the sockets (file descriptors) others need. Trusted
 *   proxies (TRUST_PROXY) are exempt: every client behind them shares their address.
 * - Idle keep-alive connections are closed after 5 s.
 */
export function createHttpServer(settings: ServerSettings, listener?: RequestListener): http.Server {
  const server = http.createServer({
    headersTimeout: settings.headersTimeout,
    requestTimeout: settings.requestTimeout,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(settings.headersTimeout / 4))),
  });
  server.keepAliveTimeout = 5_000;
  if (listener) server.on('request', listener);
  if (settings.maxConnectionsPerAddress > 0) {
    server.on('connection', capConnections(settings.maxConnectionsPerAddress, proxyTrust(settings.trustProxy)));
  }
  return server;
}

/** Counts open connections per peer address and closes those over `cap`. */
function capConnections(cap: number, trust: ProxyTrust) {
  const open = new Map<string, number>();
  return function capConnectionsPerAddress(socket: Socket): void {
    const peer = unmapped(socket.remoteAddress ?? '');
    if (trust.trusts(peer, 1)) return;
    // An IPv6 peer counts by its /64 (lib/ip-address.ts).
    const address = addressKey(peer);
    const count = (open.get(address) ?? 0) + 1;
    if (count > cap) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  };
}

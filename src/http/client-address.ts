import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';
import type { TrustProxy } from '../config.js';
import { unmapped } from '../lib/ip-address.js';

/**
 * Which hops of a request's way in are our own proxies. The socket peer is hop 1, the right-most
 * X-Forwarded-For entry hop 2, and so on leftwards.
 */
export interface ProxyTrust {
  trusts(address: string, hop: number): boolean;
}

/** Addresses whose trust is remembered at most; past it the memory starts afresh. */
const REMEMBERED_ADDRESSES = 4096;

/** Compiles TRUST_PROXY (a hop count, or proxy addresses and CIDRs) into a ProxyTrust. */
export function proxyTrust(setting: TrustProxy): ProxyTrust {
  if ('hops' in setting) {
    const hops = setting.hops;
    return { trusts: (_address, hop) => hop <= hops };
  }
  const list = new BlockList();
  for (const entry of setting.proxies) {
    const [address, bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  // BlockList matches IPv4-mapped IPv6 (::ffff:10.0.0.1) against IPv4 rules too. Its answers are
  // remembered (the list never changes): behind a proxy every request asks about the same few
  // addresses, and each check built a SocketAddress (~1.5 % of the event loop under load).
  const known = new Map<string, boolean>();
  return {
    trusts(address) {
      let trusted = known.get(address);
      if (trusted === undefined) {
        trusted = address !== '' && list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
        if (known.size >= REMEMBERED_ADDRESSES) known.clear();
        known.set(address, trusted);
      }
      return trusted;
    },
  };
}

/**
 * The client's address: the right-most address of the way in that is not one of our proxies.
 * X-Forwarded-For is read from the right, because each proxy appends the address it received the
 * request from, and everything left of our own proxies' entries was written by the client — taking
 * the left-most entry (as koa's `app.proxy` does) lets a client pick its own address and evade
 * every per-address limit. A malformed entry is never used as an address: the last trusted hop
 * (a proxy of ours) stands instead. IPv4-mapped IPv6 addresses are given in their IPv4 form, so
 * one client has one address whatever the listening socket's family.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trust: ProxyTrust): string {
  let address = unmapped(peer ?? '');
  if (forwardedFor === undefined || !trust.trusts(address, 1)) return address;
  const entries = forwardedFor.split(',');
  for (let i = entries.length - 1, hop = 2; i >= 0; i--, hop++) {
    const next = parseForwarded(entries[i]);
    if (next === undefined) return address;
    address = next;
    if (!trust.trusts(address, hop)) return address;
  }
  return address;
}

/**
 * Sets koa's `ctx.request.ip` with clientAddress(), so every `ctx.ip` reader (rate limits, the
 * login limiter) gets the same address as the lean path. koa's own `app.proxy` stays off: it would
 * trust X-Forwarded-For's left-most entry and X-Forwarded-Host from anyone. X-Forwarded-Proto is
 * believed only from a trusted proxy (it makes `ctx.secure` true, which lets Secure cookies out).
 */
export function resolveClientAddress(trust: ProxyTrust) {
  return async function clientAddressMiddleware(ctx: Context, next: Next): Promise<void> {
    const peer = ctx.req.socket.remoteAddress;
    const forwardedFor = ctx.req.headers['x-forwarded-for'];
    ctx.request.ip = clientAddress(peer, typeof forwardedFor === 'string' ? forwardedFor : undefined, trust);
    if (ctx.req.headers['x-forwarded-proto'] !== undefined && trust.trusts(unmapped(peer ?? ''), 1)) {
      const proto = ctx.get('X-Forwarded-Proto').split(',')[0].trim().toLowerCase();
      if (proto === 'https') Object.defineProperty(ctx.request, 'protocol', { value: 'https' });
    }
    await next();
  };
}

/** An X-Forwarded-For entry as an address (`1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]:80`), or undefined if it is none. */
function parseForwarded(entry: string): string | undefined {
  let value = entry.trim();
  if (isIP(value) !== 0) return unmapped(value);
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(value);
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d{1,5}$/.exec(value);
  value = bracketed?.[1] ?? withPort?.[1] ?? '';
  return isIP(value) !== 0 ? unmapped(value) : undefined;
}

import { isIP } from 'node:net';

/** `::ffff:127.0.0.1` → `127.0.0.1`; anything else unchanged. */
export function unmapped(address: string): string {
  return address.length > 7 && address.charCodeAt(0) === 58 /* : */ && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/** The 16 bytes of an IPv6 literal (`::`, dotted IPv4 tail and all). */
export function ipv6Bytes(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * What a per-address limit counts a client address under: an IPv4 address (an IPv4-mapped one
 * included) as it is, an IPv6 address by its /64. A subscriber is given a /64 at the least (RFC 6177,
 * RFC 7421), so counted address by address one customer would have 2^64 addresses to spread
 * requests, logins or registrations over.
 *
 * @example addressKey('2001:db8:1:2::1') // '2001:db8:1:2::/64'
 * @example addressKey('::ffff:192.0.2.1') // '192.0.2.1'
 */
export function addressKey(address: string): string {
  const bare = unmapped(address.replace(/%.*$/, ''));
  const family = isIP(bare);
  if (family !== 6) return family === 4 ? bare : address;
  const bytes = ipv6Bytes(bare);
  const hextets = [0, 2, 4, 6].map((i) => ((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${hextets.join(':')}::/64`;
}

import { isIP } from 'node:net';
import { ipv6Bytes } from '../lib/ip-address.js';

/**
 * Which addresses Grantor never connects to on someone else's word (an app's client_id URL, a
 * jwks_uri, a push receiver): anything that reaches this machine, the local network, a cloud
 * metadata service or no one in particular. Checked on the resolved address, never on the name.
 */
interface Range {
  bytes: number[];
  bits: number;
  why: string;
  /** IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4): judge the embedded one. */
  embeddedV4At?: number;
}

const v4 = (cidr: string, why: string): Range => {
  const [a, bits] = cidr.split('/');
  return { bytes: a.split('.').map(Number), bits: Number(bits), why };
};
const v6 = (cidr: string, why: string, embeddedV4At?: number): Range => {
  const [a, bits] = cidr.split('/');
  return { bytes: ipv6Bytes(a), bits: Number(bits), why, embeddedV4At };
};

// RFC 6890 special-purpose registries, plus the ranges cloud metadata services live in.
const V4_REFUSED: Range[] = [
  v4('0.0.0.0/8', 'unspecified ("this network", RFC 1122)'),
  v4('10.0.0.0/8', 'private (RFC 1918)'),
  v4('100.64.0.0/10', 'shared address space (RFC 6598)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local (incl. 169.254.169.254 metadata)'),
  v4('172.16.0.0/12', 'private (RFC 1918)'),
  v4('192.0.0.0/24', 'IETF protocol assignments'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.168.0.0/16', 'private (RFC 1918)'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved (incl. broadcast)'),
];

const V6_REFUSED: Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('::ffff:0:0/96', 'IPv4-mapped', 12),
  v6('::ffff:0:0:0/96', 'IPv4-translated (SIIT, RFC 2765)', 12),
  v6('::/96', 'IPv4-compatible (deprecated)'),
  v6('64:ff9b::/96', 'NAT64', 12),
  v6('64:ff9b:1::/48', 'local-use NAT64'),
  v6('100::/64', 'discard-only'),
  v6('2001::/32', 'Teredo'),
  v6('2001:db8::/32', 'documentation'),
  v6('2002::/16', '6to4', 2),
  v6('fc00::/7', 'unique local (private)'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local (deprecated)'),
  v6('ff00::/8', 'multicast'),
];

/**
 * Why `address` (an IPv4 or IPv6 literal) must not be connected to, or undefined when it may.
 * Anything that is not an IP literal is refused too.
 *
 * @example refusedAddress('169.254.169.254') // 'link-local (incl. 169.254.169.254 metadata)'
 * @example refusedAddress('::ffff:10.0.0.1') // 'IPv4-mapped: private (RFC 1918)'
 */
export function refusedAddress(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // brackets, IPv6 zone id
  const family = isIP(bare);
  if (family === 4) return match(bare.split('.').map(Number), V4_REFUSED);
  if (family === 6) {
    const bytes = ipv6Bytes(bare);
    for (const r of V6_REFUSED) {
      if (!inRange(bytes, r)) continue;
      if (r.embeddedV4At === undefined) return r.why;
      const inner = match(bytes.slice(r.embeddedV4At, r.embeddedV4At + 4), V4_REFUSED);
      return inner === undefined ? undefined : `${r.why}: ${inner}`;
    }
    return undefined;
  }
  return 'not an IP address';
}

function match(bytes: number[], ranges: Range[]): string | undefined {
  return ranges.find((r) => inRange(bytes, r))?.why;
}

function inRange(bytes: number[], range: Range): boolean {
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}

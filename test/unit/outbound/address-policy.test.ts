import { refusedAddress } from '../../../src/outbound/address-policy.js';

describe('refusedAddress: where Grantor never connects on someone else\'s word (standards.md "Outbound fetches")', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.0', 'shared'],
    ['100.127.255.255', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.0.0', 'link-local'],
    ['169.254.169.254', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.0', 'private'],
    ['192.168.255.255', 'private'],
    ['192.0.0.1', 'IETF'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ])('refuses IPv4 %s (%s)', (address, why) => {
    expect(refusedAddress(address)).toContain(why);
  });

  it.each(['9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255', '128.0.0.0', '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '223.255.255.255', '8.8.8.8', '1.1.1.1'])(
    'admits public IPv4 %s (just outside a refused range)',
    (address) => {
      expect(refusedAddress(address)).toBeUndefined();
    },
  );

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['fc00::1', 'unique local'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique local'],
    ['fd00:ec2::254', 'unique local'], // AWS's IPv6 metadata service
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard'],
    ['64:ff9b:1::1', 'local-use NAT64'],
  ])('refuses IPv6 %s (%s)', (address, why) => {
    expect(refusedAddress(address)).toContain(why);
  });

  it.each(['2606:4700:4700::1111', '2a00:1450:4001:82b::200e', 'fbff:ffff::1', 'fe7f::1', '2001:1::1', '2003::1', '::ffff:1:8.8.8.8'])(
    'admits public IPv6 %s',
    (address) => {
      expect(refusedAddress(address)).toBeUndefined();
    },
  );

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:192.168.1.1', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:224.0.0.1', 'multicast'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    // SIIT's IPv4-translated form (RFC 2765), which a translator on the path turns into IPv4.
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:a9fe:a9fe', 'link-local'],
    ['::ffff:0:10.0.0.1', 'private'],
  ])('refuses the IPv4-mapped and embedded form %s (%s)', (address, why) => {
    expect(refusedAddress(address)).toContain(why);
  });

  it.each(['::ffff:8.8.8.8', '::ffff:0:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('admits an embedded public IPv4 %s', (address) => {
    expect(refusedAddress(address)).toBeUndefined();
  });

  it.each(['localhost', 'example.com', '', '1.2.3', '::g'])('refuses %j, which is not an IP address', (address) => {
    expect(refusedAddress(address)).toBe('not an IP address');
  });
});

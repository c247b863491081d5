import { describe, expect, it } from '@jest/globals';
import { clientKeyOf } from './client-key.js';

describe('clientKeyOf', () => {
  it('counts an IPv4 client by its address', () => {
    expect(clientKeyOf('203.0.113.4')).toBe('203.0.113.4');
  });

  it('counts every address of one IPv6 /64 as one client', () => {
    const keys = [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:a:b:c:d',
      '2001:db8:1:2:0:0:192.0.2.7',
    ].map(clientKeyOf);
    expect(new Set(keys)).toEqual(new Set(['2001:db8:1:2::/64']));
  });

  it('tells neighbouring /64s apart', () => {
    expect(clientKeyOf('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
  });

  it('counts an IPv4 peer of a dual-stack socket as its IPv4 address', () => {
    expect(clientKeyOf('::ffff:198.51.100.9')).toBe('198.51.100.9');
    expect(clientKeyOf('::ffff:c633:6409')).toBe('198.51.100.9');
  });

  it('drops a zone id, and keeps what is no address as it is', () => {
    expect(clientKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKeyOf('unknown')).toBe('unknown');
  });
});

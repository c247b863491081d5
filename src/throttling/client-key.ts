import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client is counted by (the public-route throttle, the session caps
 * per client): an IPv4 address as it is; an IPv6 address by its /64 network.
 *
 * Why the /64: an IPv6 host is routinely given a whole /64 (SLAAC, privacy
 * addresses) and can pick any of its 2^64 addresses per request, so counting
 * per address would let one machine through every limit. Everyone in a /64
 * is one site; the same trade-off the IPv4 NAT of a classroom already makes.
 * IPv4-mapped addresses (`::ffff:192.0.2.1`, what a dual-stack socket shows
 * an IPv4 peer as) count as the IPv4 address.
 */
export function clientKeyOf(address: string): string {
  if (isIPv4(address)) return address;
  const plain = address.split('%')[0]; // a zone id (fe80::1%eth0) names an interface, not a host
  if (!isIPv6(plain)) return address;
  const groups = expandIPv6(plain);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` filled in, a dotted IPv4 tail split in two). */
function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

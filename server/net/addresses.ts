/**
 * IP addresses the gateway reasons about: which are public (a server-side request may go there
 * outside development mode), and the syntax of the proxy addresses GATEWAY_TRUST_PROXY names.
 * Pure: no I/O here (DNS resolution is in outboundTarget.ts).
 */
import net from 'node:net';

/** Address groups Express (proxy-addr) knows by name in a trust-proxy list. */
export const PROXY_ADDRESS_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;

/**
 * Special-purpose ranges (IANA IPv4 and IPv6 Special-Purpose Address Registries, RFC 6890 and its
 * updates): this host, private networks, carrier-grade NAT, loopback, link-local, documentation,
 * benchmarking, multicast, reserved; unique-local and site-local IPv6; discard-only, the
 * IPv4-compatible block and local-use NAT64. A server-side request to any of them reaches the
 * gateway's own host or its internal network, not a relying party on the internet (SSRF).
 */
const NON_PUBLIC: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  // ::/96 holds the unspecified address, loopback and the deprecated IPv4-compatible addresses.
  ['::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const blocked = new net.BlockList();
for (const [address, prefix, family] of NON_PUBLIC) blocked.addSubnet(address, prefix, family);

/** The 16 bytes of an IPv6 address (dotted IPv4 tail allowed), or undefined if it is not one. */
export function ipv6Bytes(address: string): Buffer | undefined {
  const plain = address.replace(/^\[|\]$/g, '').split('%')[0] ?? '';
  if (net.isIPv6(plain) === false) return undefined;
  let text = plain;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const v4 = tail[1].split('.').map(Number);
    text = `${text.slice(0, -tail[1].length)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  return bytes;
}

/**
 * The IPv4 address an IPv6 address carries, where routers or stacks may act on it: IPv4-mapped
 * (::ffff:a.b.c.d), the NAT64 well-known prefix (64:ff9b::/96) and 6to4 (2002:a.b.c.d::/48).
 */
export function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const dotted = (at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return dotted(12);
  if (b.readUInt32BE(0) === 0x0064ff9b && b.subarray(4, 12).every((x) => x === 0)) return dotted(12);
  if (b.readUInt16BE(0) === 0x2002) return dotted(2);
  return undefined;
}

/** True when `address` (an IPv4 or IPv6 literal) is an ordinary public unicast address. */
export function isPublicAddress(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, '');
  const family = net.isIP(plain);
  if (family === 4) return !blocked.check(plain, 'ipv4');
  if (family !== 6) return false;
  if (blocked.check(plain, 'ipv6')) return false;
  const inner = embeddedIpv4(plain);
  return inner === undefined || !blocked.check(inner, 'ipv4');
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `fd00::/8`) in the syntax Express accepts. */
export function isIpOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

// Addresses decided by parsing, never by string prefix: whether HOST is loopback (which relaxes
// auth), and whom TRUST_PROXY trusts to say who the client is.
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Whether listening on `host` keeps the service on this machine: `localhost`, or an IP address in
 * 127.0.0.0/8 or ::1 (also ::ffff:127.x). A name such as `127.attacker.example` is not an address.
 */
export function isLoopbackHost(host: string): boolean {
  const value = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (value === 'localhost') return true;
  const family = isIP(value);
  if (family === 4) return value.split('.')[0] === '127';
  if (family === 6) {
    const loopback = new BlockList();
    loopback.addAddress('::1', 'ipv6');
    loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
    return loopback.check(value, 'ipv6');
  }
  return false;
}

/**
 * TRUST_PROXY: `false`; a number of proxy hops in front of the service (`true` means 1, the load
 * balancer); or the proxies' addresses and CIDR ranges, comma-separated. Fastify then takes the
 * client's address from X-Forwarded-For only as far back as trusted proxies wrote it, so a client
 * cannot name its own address by sending the header itself.
 */
export type TrustProxy = false | number | string[];

const isAddressOrCidr = (entry: string) => {
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length || !address) return false;
  const family = isIP(address);
  if (!family) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d{1,3}$/.test(bits) && prefix <= (family === 4 ? 32 : 128);
};

export const trustProxySchema = z
  .string()
  .trim()
  .transform((value, context): TrustProxy => {
    const lower = value.toLowerCase();
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    if (['true', 'yes', 'on'].includes(lower)) return 1;
    if (/^\d{1,2}$/.test(lower)) return Number(lower);
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.length && entries.every(isAddressOrCidr)) return entries;
    context.addIssue({
      code: 'custom',
      message: 'expected false, a number of proxy hops (true: 1), or proxy addresses/CIDRs, comma-separated',
    });
    return z.NEVER;
  });

/**
 * Fastify's `trustProxy` for it. A hop count becomes a function trusting the first `n` hops back
 * from the socket (Fastify 5 itself trusts nothing for a plain number); a direct client that
 * bypasses the proxies could then still claim an address, so addresses are the safer setting.
 */
export function fastifyTrustProxy(
  trust: TrustProxy,
): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false || trust === 0) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

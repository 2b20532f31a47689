/**
 * The keys under which per-client limits count a peer. One IPv6 host usually
 * holds a whole /64 and can pick any address in it, so IPv6 clients are
 * counted per /64; IPv4 clients per address. The coarser network key (IPv4
 * /24, IPv6 /64) groups neighbours for the limits that must also hold against
 * many addresses of one attacker.
 *
 * @module
 */

/** Prefix length of the IPv4 network key. */
const IPV4_NETWORK_BITS = 24;

/**
 * The key of a peer for per-address limits: its IPv4 address, or its IPv6 /64.
 *
 * @param ip An IP address as the socket reports it (IPv4-mapped IPv6 counts as IPv4).
 * @returns E.g. `10.0.0.9` or `2001:db8:1:2::/64`; anything unparsable as it is.
 * @example
 * ```ts
 * addressKey("2001:db8:1:2::5"); // "2001:db8:1:2::/64"
 * addressKey("10.0.0.9"); // "10.0.0.9"
 * ```
 */
export function addressKey(ip: string): string {
  const v4 = ipv4Of(ip);
  if (v4 !== null) return v4;
  const v6 = ipv6Prefix64(ip);
  return v6 ?? ip;
}

/**
 * The network of a peer: IPv4 /24 or IPv6 /64.
 *
 * @param ip An IP address.
 * @returns E.g. `10.0.0.0/24` or `2001:db8:1:2::/64`; anything unparsable as it is.
 * @example
 * ```ts
 * networkKey("10.0.0.9"); // "10.0.0.0/24"
 * ```
 */
export function networkKey(ip: string): string {
  const v4 = ipv4Of(ip);
  if (v4 !== null) {
    const parts = v4.split(".");
    return `${parts.slice(0, IPV4_NETWORK_BITS / 8).join(".")}.0/${IPV4_NETWORK_BITS}`;
  }
  return ipv6Prefix64(ip) ?? ip;
}

/** The dotted IPv4 address of `ip` (plain or IPv4-mapped IPv6), or null. */
function ipv4Of(ip: string): string | null {
  const text = ip.toLowerCase().startsWith("::ffff:") ? ip.slice(7) : ip;
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
  }
  return parts.map(Number).join(".");
}

/** The /64 prefix of an IPv6 address in a canonical form, or null. */
function ipv6Prefix64(ip: string): string | null {
  const text = ip.replace(/%.*$/, "").toLowerCase();
  if (!text.includes(":") || !/^[0-9a-f:.]+$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An embedded IPv4 tail takes two groups; it lies beyond the /64 anyway.
  const tailGroups = tail.length > 0 && tail.at(-1)!.includes(".") ? tail.length + 1 : tail.length;
  const missing = 8 - head.length - tailGroups;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const all = [...head, ...Array(missing).fill("0"), ...tail];
  const valid = (g: string, i: number) =>
    /^[0-9a-f]{1,4}$/.test(g) || (i === all.length - 1 && ipv4Of(g) !== null);
  if (!all.every(valid)) return null;
  const first = all.slice(0, 4);
  return `${first.map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

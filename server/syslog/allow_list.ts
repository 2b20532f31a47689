/**
 * The syslog allow-list: which networks may send plain syslog to NMS. Syslog
 * has no authentication, so the sender's address is the only thing the server
 * can check. Pure code: CIDR parsing and matching for IPv4 and IPv6.
 *
 * @module
 */

/** Networks allowed when none are configured: the loopback addresses only. */
export const DEFAULT_SYSLOG_ALLOW: readonly string[] = ["127.0.0.0/8", "::1/128"];

/**
 * Distinct sender addresses whose verdict is cached. When full the cache is
 * cleared, so spoofed UDP source addresses cannot grow memory.
 */
export const MAX_CACHED_VERDICTS = 4096;

/** An address in the IPv6 space (IPv4 as `::ffff:a.b.c.d`), 16 bytes. */
type Address16 = Uint8Array;

interface Network {
  readonly bytes: Address16;
  /** Prefix length in bits within the 128-bit space. */
  readonly prefix: number;
}

/** A parsed allow-list. */
export interface AllowList {
  /** The networks as configured, for diagnostics. */
  readonly networks: readonly string[];
  /**
   * Whether a sender may send.
   *
   * @param address The sender's IP address as Deno reports it (`10.0.0.5`, `::1`, `fe80::1%eth0`).
   * @returns True when it lies in one of the networks; false for anything unparsable.
   */
  allows(address: string): boolean;
}

/**
 * Parses an IPv4 dotted quad (four decimal numbers 0-255).
 *
 * @param text Text to read.
 * @returns The address as 16 bytes (`::ffff:a.b.c.d`), or null.
 */
function parseIpv4(text: string): Address16 | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[12 + i] = value;
  }
  return bytes;
}

/**
 * Parses an IPv6 address: eight groups, `::` compression, an IPv4 tail, a zone (`%eth0`, ignored).
 *
 * @param text Text to read.
 * @returns 16 bytes, or null.
 */
function parseIpv6(text: string): Address16 | null {
  const zone = text.indexOf("%");
  const body = zone >= 0 ? text.slice(0, zone) : text;
  if (body.length < 2 || body.length > 45) return null;
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (!v4) return null;
        out.push((v4[12]! << 8) | v4[13]!, (v4[14]! << 8) | v4[15]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const all = [...head, ...new Array(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/**
 * Parses an IPv4 or IPv6 address into the 16-byte IPv6 space.
 *
 * @param text The address.
 * @returns 16 bytes, or null when it is not an IP address.
 */
function parseAddress(text: string): Address16 | null {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

/**
 * Whether `address` lies within `network`.
 *
 * @param network A network.
 * @param address An address.
 * @returns True when the first `prefix` bits agree.
 */
function contains(network: Network, address: Address16): boolean {
  const whole = network.prefix >> 3;
  for (let i = 0; i < whole; i++) if (network.bytes[i] !== address[i]) return false;
  const bits = network.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (network.bytes[whole]! & mask) === (address[whole]! & mask);
}

/**
 * Parses one network: `10.0.0.0/8`, `192.168.1.7` (one host), `2001:db8::/32`, `::1`.
 *
 * @param text The network as written by the operator.
 * @returns The network.
 * @throws {SyntaxError} When it is not an address with an optional prefix length.
 */
function parseNetwork(text: string): Network {
  const slash = text.indexOf("/");
  const addressText = slash >= 0 ? text.slice(0, slash) : text;
  const bytes = parseAddress(addressText);
  if (!bytes) {
    throw new SyntaxError(`Invalid network ${JSON.stringify(text)} in the syslog allow-list`);
  }
  const v4 = !addressText.includes(":");
  const maxPrefix = v4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (prefix < 0 || prefix > maxPrefix) {
      throw new SyntaxError(
        `Invalid network ${
          JSON.stringify(text)
        } in the syslog allow-list: prefix length must be 0-${maxPrefix}`,
      );
    }
  }
  return { bytes, prefix: v4 ? prefix + 96 : prefix };
}

/**
 * Parses an allow-list of networks. Each entry may itself hold several
 * networks separated by commas or spaces (`"10.0.0.0/8,192.168.0.0/16"`), as
 * given on the command line. IPv4 networks also match IPv4-mapped IPv6
 * senders (`::ffff:10.0.0.5`), as a dual-stack socket reports them.
 *
 * @param specs Networks in CIDR notation; a bare address is a single host.
 * @returns The allow-list.
 * @throws {SyntaxError} When an entry is not a valid network, or the list is empty.
 * @example
 * ```ts
 * const allow = parseAllowList(["10.0.0.0/8,192.168.0.0/16"]);
 * allow.allows("10.1.2.3"); // true
 * allow.allows("172.16.0.1"); // false
 * ```
 */
export function parseAllowList(specs: readonly string[]): AllowList {
  const texts = specs.flatMap((spec) => spec.split(/[\s,]+/)).filter((text) => text !== "");
  if (texts.length === 0) {
    throw new SyntaxError("Invalid syslog allow-list: no networks given");
  }
  const networks = texts.map(parseNetwork);
  const cache = new Map<string, boolean>();
  return {
    networks: texts,
    allows(address: string): boolean {
      let verdict = cache.get(address);
      if (verdict !== undefined) return verdict;
      const bytes = typeof address === "string" ? parseAddress(address) : null;
      verdict = bytes !== null && networks.some((network) => contains(network, bytes));
      if (cache.size >= MAX_CACHED_VERDICTS) cache.clear();
      cache.set(address, verdict);
      return verdict;
    },
  };
}

/**
 * The canonical form of a sender address for storage: an IPv4-mapped IPv6
 * address (`::ffff:10.0.0.5`) becomes its IPv4 form and a zone is dropped.
 *
 * @param address The sender's IP address as Deno reports it.
 * @returns The address to record.
 * @example
 * ```ts
 * senderAddress("::ffff:10.0.0.5"); // "10.0.0.5"
 * ```
 */
export function senderAddress(address: string): string {
  const zone = address.indexOf("%");
  const text = zone >= 0 ? address.slice(0, zone) : address;
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(text);
  return mapped ? mapped[1]! : text;
}

/**
 * Sizes written by people, as in `--max-db-size 2GB`.
 *
 * @module
 */

/** Multipliers of the accepted units: decimal (kB, MB, ...) and binary (KiB, MiB, ...). */
const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses a size: a number and an optional unit, case-insensitive. `kB`, `MB`,
 * `GB`, `TB` (and `k`, `M`, `G`, `T`) are powers of 1000; `KiB`, `MiB`, `GiB`,
 * `TiB` powers of 1024; no unit means bytes.
 *
 * @param text The size, e.g. `2GB`, `500 MiB`, `1.5G`, `1048576`.
 * @returns The size in bytes, rounded down.
 * @throws {RangeError} When the text is not a positive size.
 * @example
 * ```ts
 * parseByteSize("2GB"); // 2000000000
 * parseByteSize("1 GiB"); // 1073741824
 * ```
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  const factor = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && factor !== undefined ? Math.floor(Number(match[1]) * factor) : NaN;
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) {
    throw new RangeError(
      `Invalid size ${
        JSON.stringify(text)
      }: expected a number and a unit such as 500MB, 2GB or 1GiB`,
    );
  }
  return bytes;
}

/**
 * Formats a byte count for people: `1.5 GB`.
 *
 * @param bytes A size in bytes.
 * @returns The size with a decimal unit and at most one decimal.
 * @example
 * ```ts
 * formatByteSize(2_000_000_000); // "2 GB"
 * ```
 */
export function formatByteSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Math.round(value * 10) / 10} ${units[unit]}`;
}

/**
 * Reader for the BSD syslog timestamp `Mmm dd hh:mm:ss` (RFC 3164 §4.1.2),
 * with the variants seen in the field: a space-padded (`Nov  3`), zero-padded
 * (`Nov 03`) or unpadded (`Nov 3`) day, Cisco's explicit year before the time
 * (`Nov 23 2026 19:43:33`) and a fraction (`19:43:33.123`).
 *
 * The line carries no year and no zone. The time is read as UTC: the server
 * cannot know the sender's zone, most servers run in UTC, and UTC keeps the
 * result independent of the machine parsing it. The year comes from the time
 * the server received the line (see {@linkcode yearForMonth}).
 *
 * @module
 */

import { utcMillis } from "./_civil_time.ts";
import { digitAt, fourDigits, twoDigits } from "./_digits.ts";
import type { TimestampScan } from "./_timestamp_scan.ts";

/** Month abbreviations, January first, as `Date.toString()` and syslog print them. */
const MONTH_NAMES = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
];

/** Bit that turns an ASCII capital letter into lower case. */
const ASCII_LOWER_BIT = 0x20;

/** Lower-cased month abbreviation packed into one integer (3 × 8 bits) → month 1..12. */
const MONTH_BY_KEY: ReadonlyMap<number, number> = new Map(
  MONTH_NAMES.map((name, i) => [
    (name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2),
    i + 1,
  ]),
);

/** Most fraction digits accepted after the seconds. */
const MAX_FRACTION_DIGITS = 9;

/**
 * Lines stamped up to this many months after the receive month count as the
 * receive year (a sender's clock running a little fast); lines stamped later
 * in the year than that are from the previous year (December lines received
 * in January).
 */
const MAX_MONTHS_AHEAD = 1;

/** Months per year. */
const MONTHS_PER_YEAR = 12;

/** `readBsdTimestamp` result: a valid timestamp was read. */
export const BSD_OK = 1;
/** `readBsdTimestamp` result: the text does not start like a BSD timestamp. */
export const BSD_ABSENT = 0;
/** `readBsdTimestamp` result: it starts like one (`Feb 30 ...`) but is malformed or impossible. */
export const BSD_INVALID = -1;

// The receive time of a batch is shared by all its lines: cache its UTC year
// and month so that `new Date()` runs once per batch, not once per line.
let cachedReceivedAt = NaN;
let cachedYear = NaN;
let cachedMonth = NaN;

/**
 * Picks the year of a BSD timestamp from the time the line was received (in
 * UTC): the receive year, the previous one when `month` is more than
 * {@linkcode MAX_MONTHS_AHEAD} after the receive month (a December line
 * received in January), or the next one when `month` is January and the
 * line arrived in December (a sender whose clock already turned the year).
 *
 * @param month Month of the line, 1..12.
 * @param receivedAt Ms since the epoch when the server received the line.
 * @returns The year, or NaN when `receivedAt` is not a valid time.
 * @example
 * ```ts
 * yearForMonth(12, Date.UTC(2027, 0, 2)); // 2026
 * ```
 */
export function yearForMonth(month: number, receivedAt: number): number {
  if (receivedAt !== cachedReceivedAt) {
    const received = new Date(receivedAt);
    cachedReceivedAt = receivedAt;
    cachedYear = received.getUTCFullYear(); // NaN for an invalid receivedAt
    cachedMonth = received.getUTCMonth() + 1;
  }
  const ahead = month - cachedMonth;
  if (ahead > MAX_MONTHS_AHEAD) return cachedYear - 1;
  if (ahead + MONTHS_PER_YEAR <= MAX_MONTHS_AHEAD) return cachedYear + 1;
  return cachedYear;
}

/**
 * Reads a BSD timestamp at `start`.
 *
 * @param line Text to read.
 * @param start Index of the month's first letter.
 * @param receivedAt Ms since the epoch when the line was received; gives the year.
 * @param out Receives `ms` (NaN when `receivedAt` is invalid) and `next` on success.
 * @returns {@linkcode BSD_OK}, {@linkcode BSD_ABSENT} or {@linkcode BSD_INVALID}.
 * @example
 * ```ts
 * const scan = createTimestampScan();
 * readBsdTimestamp("Nov  3 19:43:33 web-01", 0, Date.UTC(2026, 10, 4), scan); // BSD_OK
 * ```
 */
export function readBsdTimestamp(
  line: string,
  start: number,
  receivedAt: number,
  out: TimestampScan,
): number {
  const key = ((line.charCodeAt(start) | ASCII_LOWER_BIT) << 16) |
    ((line.charCodeAt(start + 1) | ASCII_LOWER_BIT) << 8) |
    (line.charCodeAt(start + 2) | ASCII_LOWER_BIT);
  const month = MONTH_BY_KEY.get(key);
  if (month === undefined || line.charCodeAt(start + 3) !== 0x20) return BSD_ABSENT;

  // Day: " 3", "03", "23" or "3".
  let i = start + 4;
  if (line.charCodeAt(i) === 0x20) i++;
  let day = digitAt(line, i);
  if (day < 0) return BSD_ABSENT;
  i++;
  const d2 = digitAt(line, i);
  if (d2 >= 0) {
    day = day * 10 + d2;
    i++;
  }
  if (line.charCodeAt(i) !== 0x20) return BSD_INVALID;
  i++;

  // Cisco `service timestamps log datetime year`: "Nov 23 2026 19:43:33".
  let year = NaN;
  if (line.charCodeAt(i + 4) === 0x20) {
    year = fourDigits(line, i);
    if (year < 0) return BSD_INVALID;
    i += 5;
  }

  const hour = twoDigits(line, i);
  const minute = twoDigits(line, i + 3);
  const second = twoDigits(line, i + 6);
  if (
    hour < 0 || minute < 0 || second < 0 || line.charCodeAt(i + 2) !== 0x3a ||
    line.charCodeAt(i + 5) !== 0x3a
  ) {
    return BSD_INVALID;
  }
  i += 8;

  let millis = 0;
  if (line.charCodeAt(i) === 0x2e /* . */ && digitAt(line, i + 1) >= 0) {
    i++;
    let count = 0;
    for (let d = digitAt(line, i); d >= 0; d = digitAt(line, i)) {
      if (++count > MAX_FRACTION_DIGITS) return BSD_INVALID;
      if (count <= 3) millis = millis * 10 + d;
      i++;
    }
    if (count === 1) millis *= 100;
    else if (count === 2) millis *= 10;
  }

  if (year !== year) year = yearForMonth(month, receivedAt);
  // Validate against a leap year when the year is unknown, so Feb 29 passes.
  const ms = utcMillis(year === year ? year : 2000, month, day, hour, minute, second, millis);
  if (ms !== ms) return BSD_INVALID;
  out.ms = year === year ? ms : NaN;
  out.next = i;
  return BSD_OK;
}

/**
 * Reader for RFC 3339 / ISO 8601 timestamps as syslog writes them:
 * `2026-11-23T19:43:33`, optional `.f` fraction (1 to 9 digits), optional `Z`,
 * `±hh:mm` or `±hhmm` offset. A timestamp without offset is read as UTC.
 *
 * Where the caller allows it, a space may stand for the `T`, as macOS `log`,
 * several appliances and some rsyslog templates write
 * (`2020-03-23 06:47:42.801612-0700`); such a timestamp must then carry its
 * zone, numeric or named (` UTC`, ` GMT`), so a date followed by free text
 * is not taken for a time.
 *
 * @module
 */

import { utcMillis } from "./_civil_time.ts";
import { digitAt, fourDigits, twoDigits } from "./_digits.ts";
import type { TimestampScan } from "./_timestamp_scan.ts";

/** Most fraction digits accepted (nanoseconds); RFC 5424 allows 6, some senders write 9. */
const MAX_FRACTION_DIGITS = 9;

/** Length of `YYYY-MM-DDThh:mm:ss`. */
const DATE_TIME_CHARS = 19;

/** Ms per minute, for time offsets. */
const MS_PER_MINUTE = 60_000;

/**
 * Reads an ISO 8601 timestamp at `start`. Sub-millisecond digits are dropped
 * (ts is whole ms). The caller checks what follows the timestamp.
 *
 * @param line Text to read.
 * @param start Index of the first year digit.
 * @param requireOffset When true, a timestamp without `Z` or `±hh:mm` does not match.
 * @param out Receives `ms` and `next` (index just past the timestamp) on success.
 * @param allowSpace Accept a space instead of `T`; the zone is then required.
 * @returns True when a valid timestamp was read; false for any malformed or impossible one.
 * @example
 * ```ts
 * const scan = createTimestampScan();
 * readIsoTimestamp("2026-11-23T19:43:33.123Z web", 0, true, scan); // true, scan.next = 24
 * ```
 */
export function readIsoTimestamp(
  line: string,
  start: number,
  requireOffset: boolean,
  out: TimestampScan,
  allowSpace = false,
): boolean {
  if (line.length - start < DATE_TIME_CHARS) return false;
  const year = fourDigits(line, start);
  if (year < 0 || line.charCodeAt(start + 4) !== 0x2d /* - */) return false;
  const month = twoDigits(line, start + 5);
  if (month < 0 || line.charCodeAt(start + 7) !== 0x2d /* - */) return false;
  const day = twoDigits(line, start + 8);
  const separator = line.charCodeAt(start + 10);
  const spaced = separator === 0x20 && allowSpace;
  if (day < 0 || (separator !== 0x54 /* T */ && !spaced)) return false;
  const hour = twoDigits(line, start + 11);
  if (hour < 0 || line.charCodeAt(start + 13) !== 0x3a /* : */) return false;
  const minute = twoDigits(line, start + 14);
  if (minute < 0 || line.charCodeAt(start + 16) !== 0x3a /* : */) return false;
  const second = twoDigits(line, start + 17);
  if (second < 0) return false;

  let i = start + DATE_TIME_CHARS;
  let millis = 0;
  if (line.charCodeAt(i) === 0x2e /* . */) {
    i++;
    let count = 0;
    for (let d = digitAt(line, i); d >= 0; d = digitAt(line, i)) {
      if (++count > MAX_FRACTION_DIGITS) return false;
      if (count <= 3) millis = millis * 10 + d;
      i++;
    }
    if (count === 0) return false;
    // Scale "1" (tenths) or "12" (hundredths) to milliseconds.
    if (count === 1) millis *= 100;
    else if (count === 2) millis *= 10;
  }

  let offsetMinutes = 0;
  const c = line.charCodeAt(i);
  if (c === 0x5a /* Z */) {
    i++;
  } else if (c === 0x2b /* + */ || c === 0x2d /* - */) {
    const oh = twoDigits(line, i + 1);
    if (oh < 0 || oh > 23) return false;
    const colon = line.charCodeAt(i + 3) === 0x3a /* : */ ? 1 : 0;
    const om = twoDigits(line, i + 3 + colon);
    if (om < 0 || om > 59) return false;
    offsetMinutes = (c === 0x2b ? 1 : -1) * (oh * 60 + om);
    i += 5 + colon;
  } else if (spaced && isNamedUtc(line, i)) {
    i += 4;
  } else if (requireOffset || spaced) {
    return false;
  }

  const ms = utcMillis(year, month, day, hour, minute, second, millis);
  if (ms !== ms) return false; // NaN: impossible date
  out.ms = ms - offsetMinutes * MS_PER_MINUTE;
  out.next = i;
  return true;
}

/** Whether ` UTC` or ` GMT` follows at `i`, ending there or before a space. */
function isNamedUtc(line: string, i: number): boolean {
  if (line.charCodeAt(i) !== 0x20) return false;
  const zone = line.slice(i + 1, i + 4);
  if (zone !== "UTC" && zone !== "GMT") return false;
  const after = line.charCodeAt(i + 4);
  return after !== after || after === 0x20; // end of line (NaN) or a space
}

/**
 * Validated calendar fields → milliseconds since the epoch, always in UTC.
 *
 * @module
 */

/** Milliseconds in 400 Gregorian years (146,097 days): the calendar repeats after it. */
const MS_PER_400_YEARS = 146_097 * 86_400_000;

/** Days in each month of a common year, January first. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Ms per hour, minute and second, to add a time of day to the start of its day. */
const MS_PER_HOUR = 3_600_000;
const MS_PER_MINUTE = 60_000;
const MS_PER_SECOND = 1_000;

// Lines of a batch almost always fall on one day, and Date.UTC costs about
// 50 ns: cache the start of the last day computed (key year*10000+month*100+day).
let cachedDayKey = -1;
let cachedDayStart = 0;

/** Largest four-digit year a log timestamp may carry. */
const MAX_YEAR = 9999;

/**
 * Returns whether `year` is a Gregorian leap year.
 *
 * @param year Full year, e.g. 2028.
 * @returns True for leap years.
 */
function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Converts calendar fields read as UTC into ms since the epoch, or NaN when
 * the date or time does not exist (Feb 30, hour 25, minute 60...).
 *
 * Second 60 (a leap second, allowed by RFC 3339) is accepted and, like POSIX
 * time, lands on second 0 of the next minute. Years below 100 are shifted by
 * 400 years around `Date.UTC`, which would otherwise read them as 19xx.
 * The start of the last day is cached, since lines of a batch share their day.
 *
 * @param year Full year, 0..9999.
 * @param month Month 1..12.
 * @param day Day of the month, 1..28/29/30/31.
 * @param hour Hour 0..23.
 * @param minute Minute 0..59.
 * @param second Second 0..60.
 * @param millis Milliseconds 0..999.
 * @returns Milliseconds since the epoch, or NaN for an impossible date.
 * @example
 * ```ts
 * utcMillis(2026, 11, 23, 19, 43, 33, 123); // 1795463013123
 * utcMillis(2026, 2, 30, 0, 0, 0, 0); // NaN
 * ```
 */
export function utcMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number {
  if (!(year >= 0 && year <= MAX_YEAR && month >= 1 && month <= 12 && day >= 1)) return NaN;
  const monthDays = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > monthDays || hour > 23 || minute > 59 || second > 60) return NaN;
  if (!(hour >= 0 && minute >= 0 && second >= 0 && millis >= 0 && millis <= 999)) return NaN;
  const dayKey = year * 10_000 + month * 100 + day;
  if (dayKey !== cachedDayKey) {
    cachedDayStart = year < 100
      ? Date.UTC(year + 400, month - 1, day) - MS_PER_400_YEARS
      : Date.UTC(year, month - 1, day);
    cachedDayKey = dayKey;
  }
  return cachedDayStart + hour * MS_PER_HOUR + minute * MS_PER_MINUTE + second * MS_PER_SECOND +
    millis;
}

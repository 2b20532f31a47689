/**
 * The log filters of the web console API (`GET /api/logs`, its count, export
 * and live stream), parsed from URL query parameters. Parameters come from
 * anyone who can reach the port, so parsing never throws: it returns a reason.
 *
 * @module
 */

import { SEVERITY_KEYWORDS } from "../../protocol/mod.ts";
import type { EventQuery, EventRecord } from "../store/store.ts";

/** Longest accepted host or program filter, in characters. */
export const MAX_NAME_FILTER_CHARS = 255;
/** Longest accepted keyword, in characters. */
export const MAX_KEYWORD_CHARS = 512;

/** Filters shared by search, count, export and the live stream. */
export interface LogFilter {
  readonly host?: string;
  readonly program?: string;
  /** Only events at least this severe (syslog number at most this). */
  readonly maxSeverity?: number;
  /** Keyword searched in the message. */
  readonly keyword?: string;
  /** Event time from, inclusive, ms since the epoch. */
  readonly sinceMs?: number;
  /** Event time until, exclusive, ms since the epoch. */
  readonly untilMs?: number;
}

/** The outcome of parsing query parameters: never an exception. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Reads the filters from query parameters: `host`, `program`, `severity`
 * (a name such as `warning` or a number 0-7: that severity or worse), `q`
 * (keyword), `from` and `to` (ISO 8601 or ms since the epoch).
 *
 * @param params The URL's search parameters.
 * @returns The filter, or why the parameters are invalid.
 * @example
 * ```ts
 * parseLogFilter(new URLSearchParams("host=web-01&severity=err&q=timeout"));
 * // { ok: true, value: { host: "web-01", maxSeverity: 3, keyword: "timeout" } }
 * ```
 */
export function parseLogFilter(params: URLSearchParams): ParseResult<LogFilter> {
  const filter: {
    host?: string;
    program?: string;
    maxSeverity?: number;
    keyword?: string;
    sinceMs?: number;
    untilMs?: number;
  } = {};
  for (const name of ["host", "program"] as const) {
    const value = params.get(name)?.trim();
    if (!value) continue;
    if (value.length > MAX_NAME_FILTER_CHARS) {
      return { ok: false, reason: `${name} is longer than ${MAX_NAME_FILTER_CHARS} characters` };
    }
    filter[name] = value;
  }
  const keyword = params.get("q")?.trim();
  if (keyword) {
    if (keyword.length > MAX_KEYWORD_CHARS) {
      return { ok: false, reason: `q is longer than ${MAX_KEYWORD_CHARS} characters` };
    }
    filter.keyword = keyword;
  }
  const severity = params.get("severity")?.trim().toLowerCase();
  if (severity) {
    // Syslog's keywords only, index = severity (the console's menu offers these).
    const byName = (SEVERITY_KEYWORDS as readonly string[]).indexOf(severity);
    const n = byName >= 0 ? byName : /^[0-7]$/.test(severity) ? Number(severity) : -1;
    if (n < 0) {
      return {
        ok: false,
        reason: `severity must be 0-7 or one of ${SEVERITY_KEYWORDS.join(", ")}`,
      };
    }
    filter.maxSeverity = n;
  }
  for (const [name, key] of [["from", "sinceMs"], ["to", "untilMs"]] as const) {
    const value = params.get(name)?.trim();
    if (!value) continue;
    const ms = parseTime(value);
    if (ms === undefined) {
      return { ok: false, reason: `${name} must be an ISO 8601 time or milliseconds since 1970` };
    }
    filter[key] = ms;
  }
  return { ok: true, value: filter };
}

/**
 * Reads a positive integer parameter within bounds.
 *
 * @param params The URL's search parameters.
 * @param name Parameter name.
 * @param bounds Smallest and largest accepted value, and the value when absent.
 * @returns The number, or why it is invalid.
 * @example
 * ```ts
 * parseIntParam(new URLSearchParams("limit=50"), "limit", { min: 1, max: 500, fallback: 100 });
 * ```
 */
export function parseIntParam(
  params: URLSearchParams,
  name: string,
  bounds: { min: number; max: number; fallback: number },
): ParseResult<number> {
  const text = params.get(name)?.trim();
  if (!text) return { ok: true, value: bounds.fallback };
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    return { ok: false, reason: `${name} must be an integer from ${bounds.min} to ${bounds.max}` };
  }
  return { ok: true, value: n };
}

/**
 * The store query for a filter. Search is by exact host and program (indexed);
 * the keyword goes to the store's full-text search (`text`: every word must
 * appear, case-insensitively, as the start of a word of the line). This is the
 * one place that decides how a keyword is searched, so the API does not change
 * if that does.
 *
 * @param filter Parsed filters.
 * @returns The store query (without limit or cursors).
 * @example
 * ```ts
 * await store.queryEvents({ ...toEventQuery(filter), limit: 100 });
 * ```
 */
export function toEventQuery(filter: LogFilter): EventQuery {
  return {
    ...(filter.host === undefined ? {} : { host: filter.host }),
    ...(filter.program === undefined ? {} : { program: filter.program }),
    ...(filter.maxSeverity === undefined ? {} : { maxSeverity: filter.maxSeverity }),
    ...(filter.keyword === undefined ? {} : { text: filter.keyword }),
    ...(filter.sinceMs === undefined ? {} : { sinceMs: filter.sinceMs }),
    ...(filter.untilMs === undefined ? {} : { untilMs: filter.untilMs }),
  };
}

/**
 * A predicate for the live stream, where filters apply as the operator types:
 * host, program and keyword match case-insensitive substrings.
 *
 * @param filter Parsed filters.
 * @returns Whether an event passes.
 * @example
 * ```ts
 * const passes = liveMatcher({ host: "web" });
 * passes(event); // true for host "web-01"
 * ```
 */
export function liveMatcher(filter: LogFilter): (event: EventRecord) => boolean {
  const host = filter.host?.toLowerCase();
  const program = filter.program?.toLowerCase();
  const keyword = filter.keyword?.toLowerCase();
  const maxSeverity = filter.maxSeverity;
  return (event) =>
    (host === undefined || (event.host ?? "").toLowerCase().includes(host)) &&
    (program === undefined || (event.program ?? "").toLowerCase().includes(program)) &&
    (maxSeverity === undefined || (event.severity !== null && event.severity <= maxSeverity)) &&
    (keyword === undefined || event.message.toLowerCase().includes(keyword)) &&
    (filter.sinceMs === undefined || event.ts >= filter.sinceMs) &&
    (filter.untilMs === undefined || event.ts < filter.untilMs);
}

function parseTime(text: string): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  // Only ISO-like dates: Date.parse accepts many loose forms we do not want.
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

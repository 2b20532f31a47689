/**
 * The log endpoints of the console: search with cursor pagination, a bounded
 * count of matches, export as NDJSON or CSV, and the live stream (SSE).
 *
 * @module
 */

import type { EventRecord } from "../store/store.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem } from "./http.ts";
import { parseIntParam, parseLogFilter, toEventQuery } from "./log_filter.ts";

/** Default number of events in one search page. */
export const DEFAULT_PAGE_EVENTS = 100;
/** Largest search page. */
export const MAX_PAGE_EVENTS = 1_000;
/** A count stops here and reports `capped: true`, so it stays fast on millions of rows. */
export const MAX_COUNT = 100_000;
/** Most events in one export. */
export const MAX_EXPORT_EVENTS = 100_000;
/** Events read from the store per export chunk (one short query each). */
const EXPORT_PAGE_EVENTS = 1_000;

/**
 * `GET /api/logs`: matching events, newest first. Follow `nextCursor` (pass it
 * back as `cursor`) for older pages.
 *
 * @param req The request (filters, `cursor`, `limit` in the query string).
 * @param ctx The console context.
 * @returns `{events, nextCursor}`; 400 on invalid parameters.
 * @example
 * ```ts
 * await searchLogs(req, ctx);
 * ```
 */
export async function searchLogs(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const params = req.url.searchParams;
  const filter = parseLogFilter(params);
  if (!filter.ok) return problem(400, filter.reason);
  const limit = parseIntParam(params, "limit", {
    min: 1,
    max: MAX_PAGE_EVENTS,
    fallback: DEFAULT_PAGE_EVENTS,
  });
  if (!limit.ok) return problem(400, limit.reason);
  const cursor = parseIntParam(params, "cursor", {
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    fallback: 0,
  });
  if (!cursor.ok) return problem(400, "cursor must be a value returned as nextCursor");
  const events = await ctx.store.queryEvents({
    ...toEventQuery(filter.value),
    ...(cursor.value > 0 ? { beforeId: cursor.value } : {}),
    limit: limit.value,
  });
  const last = events.at(-1);
  return json({
    events,
    nextCursor: events.length === limit.value && last ? String(last.id) : null,
  });
}

/**
 * `GET /api/logs/count`: how many events match, up to {@linkcode MAX_COUNT}.
 *
 * @param req The request (filters in the query string).
 * @param ctx The console context.
 * @returns `{count, capped}`.
 * @example
 * ```ts
 * await countLogs(req, ctx);
 * ```
 */
export async function countLogs(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const filter = parseLogFilter(req.url.searchParams);
  if (!filter.ok) return problem(400, filter.reason);
  const count = await ctx.store.countEvents(toEventQuery(filter.value), { atMost: MAX_COUNT });
  return json({ count, capped: count >= MAX_COUNT });
}

/**
 * `GET /api/logs/export?format=ndjson|csv`: the search result (newest first,
 * at most `limit`, default and maximum {@linkcode MAX_EXPORT_EVENTS}) as a
 * download, streamed a page at a time.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns The streamed file.
 * @example
 * ```ts
 * await exportLogs(req, ctx);
 * ```
 */
export function exportLogs(req: RouteRequest, ctx: DashboardContext): Response {
  const params = req.url.searchParams;
  const format = params.get("format") ?? "ndjson";
  if (format !== "ndjson" && format !== "csv") return problem(400, "format must be ndjson or csv");
  const filter = parseLogFilter(params);
  if (!filter.ok) return problem(400, filter.reason);
  const limit = parseIntParam(params, "limit", {
    min: 1,
    max: MAX_EXPORT_EVENTS,
    fallback: MAX_EXPORT_EVENTS,
  });
  if (!limit.ok) return problem(400, limit.reason);
  const query = toEventQuery(filter.value);
  const encoder = new TextEncoder();
  let beforeId: number | undefined;
  let remaining = limit.value;
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (!started && format === "csv") controller.enqueue(encoder.encode(CSV_HEADER));
      started = true;
      if (remaining <= 0 || ctx.shutdownSignal.aborted) return controller.close();
      const page = await ctx.store.queryEvents({
        ...query,
        ...(beforeId === undefined ? {} : { beforeId }),
        limit: Math.min(EXPORT_PAGE_EVENTS, remaining),
      });
      remaining -= page.length;
      if (page.length > 0) {
        beforeId = page.at(-1)!.id;
        const text = format === "csv"
          ? page.map(csvRow).join("")
          : page.map((e) => JSON.stringify(e) + "\n").join("");
        controller.enqueue(encoder.encode(text));
      }
      if (page.length < EXPORT_PAGE_EVENTS) remaining = 0;
    },
  });
  const stamp = new Date(ctx.now()).toISOString().replace(/[:.]/g, "-");
  return new Response(body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-disposition": `attachment; filename="nms-logs-${stamp}.${format}"`,
    },
  });
}

/**
 * `GET /api/logs/stream`: Server-Sent Events with the newest matching events
 * (see {@linkcode LiveHub}). Live filters match case-insensitive substrings.
 *
 * @param req The request (filters; `Last-Event-ID` header to resume).
 * @param ctx The console context.
 * @returns The event stream, or 503 when too many clients listen.
 * @example
 * ```ts
 * await streamLogs(req, ctx);
 * ```
 */
export async function streamLogs(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const filter = parseLogFilter(req.url.searchParams);
  if (!filter.ok) return problem(400, filter.reason);
  const resume = req.request.headers.get("last-event-id") ?? "";
  const lastEventId = /^\d{1,15}$/.test(resume) ? Number(resume) : undefined;
  const session = req.auth?.session ?? null;
  const user = req.auth!.user;
  const body = await ctx.live.subscribe({
    // The stream ends when this credential changes (credential_recheck.ts).
    owner: { userId: user.id, passwordHash: user.passwordHash, role: user.role },
    filter: filter.value,
    ...(lastEventId === undefined ? {} : { lastEventId }),
    stillAllowed: () => {
      if (session === null) return true;
      if (!ctx.sessions.isValid(session.id)) return false;
      ctx.sessions.touch(session.id);
      return true;
    },
  });
  if (!body) return problem(503, "Too many live clients; try again later");
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

const CSV_COLUMNS = [
  "id",
  "time",
  "received",
  "host",
  "program",
  "pid",
  "severity",
  "facility",
  "message",
  "raw",
] as const;

const CSV_HEADER = CSV_COLUMNS.join(",") + "\r\n";

function csvRow(e: EventRecord): string {
  return [
    String(e.id),
    new Date(e.ts).toISOString(),
    new Date(e.receivedAt).toISOString(),
    csvText(e.host),
    csvText(e.program),
    e.pid === null ? "" : String(e.pid),
    e.severity === null ? "" : String(e.severity),
    e.facility === null ? "" : String(e.facility),
    csvText(e.message),
    csvText(e.raw),
  ].join(",") + "\r\n";
}

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula
 * (starting with = + - @, tab or CR) gets a leading apostrophe: log content is
 * attacker-controlled.
 */
function csvText(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

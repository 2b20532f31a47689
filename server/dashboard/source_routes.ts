/**
 * Syslog sources for the console: the devices and relays that send plain
 * syslog (server/syslog/), listed beside the agents.
 *
 * @module
 */

import { DEFAULT_SOURCE_SILENT_AFTER_SECONDS, sourceStatus } from "../syslog/mod.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem } from "./http.ts";

/** Longest `silentAfter` a request may ask for, in seconds (a year). */
const MAX_SILENT_AFTER_SECONDS = 366 * 86_400;

/**
 * `GET /api/sources[?silentAfter=SECONDS]`: every syslog source with its
 * status (`active`, or `silent` after `silentAfter` seconds without a message).
 * Hostnames come from the senders: render them as text, never as HTML.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns `{now, silentAfterSeconds, sources: (SourceRecord & {status})[]}`.
 * @example
 * ```ts
 * await listSources(req, ctx);
 * ```
 */
export async function listSources(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const param = req.url.searchParams.get("silentAfter");
  const silentAfterSeconds = param === null ? DEFAULT_SOURCE_SILENT_AFTER_SECONDS : Number(param);
  if (
    !Number.isInteger(silentAfterSeconds) || silentAfterSeconds < 1 ||
    silentAfterSeconds > MAX_SILENT_AFTER_SECONDS
  ) {
    return problem(400, `silentAfter must be an integer from 1 to ${MAX_SILENT_AFTER_SECONDS}`);
  }
  const now = ctx.now();
  const sources = (await ctx.store.listSources()).map((source) => ({
    ...source,
    status: sourceStatus(source, now, silentAfterSeconds),
  }));
  return json({ now, silentAfterSeconds, sources });
}

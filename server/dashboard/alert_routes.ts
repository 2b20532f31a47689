/**
 * Alerts for the console (server/rules/, docs/RULES.md "Showing alerts in
 * the console"): the Alerts view and the badge on the other views poll this.
 *
 * @module
 */

import { MAX_RULE_LEVEL } from "../rules/rule.ts";
import { type AlertQuery, MAX_ALERT_QUERY_LIMIT } from "../store/store.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem } from "./http.ts";

/** Reads an optional integer query parameter within bounds; undefined when absent, null when bad. */
function intParam(url: URL, name: string, min: number, max: number): number | undefined | null {
  const text = url.searchParams.get(name);
  if (text === null || text === "") return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}

/**
 * `GET /api/alerts[?since=MS][&minLevel=N][&limit=N]`: alerts raised or
 * updated at or after `since` (server time, ms since the epoch), most recently
 * updated first, and `total`, how many match without the limit (the badge).
 * Field values come from log lines: render them as text, never as HTML.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns `{now, total, alerts: AlertRecord[]}`.
 * @example
 * ```ts
 * await listAlerts(req, ctx);
 * ```
 */
export async function listAlerts(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const since = intParam(req.url, "since", 0, Number.MAX_SAFE_INTEGER);
  const minLevel = intParam(req.url, "minLevel", 0, MAX_RULE_LEVEL);
  const limit = intParam(req.url, "limit", 1, MAX_ALERT_QUERY_LIMIT);
  if (since === null) return problem(400, "since must be a time in ms since the epoch");
  if (minLevel === null) {
    return problem(400, `minLevel must be an integer from 0 to ${MAX_RULE_LEVEL}`);
  }
  if (limit === null) {
    return problem(400, `limit must be an integer from 1 to ${MAX_ALERT_QUERY_LIMIT}`);
  }
  const query: AlertQuery = {
    ...(since === undefined ? {} : { sinceMs: since }),
    ...(minLevel === undefined ? {} : { minLevel }),
  };
  const [alerts, total] = await Promise.all([
    ctx.store.listAlerts({ ...query, ...(limit === undefined ? {} : { limit }) }),
    ctx.store.countAlerts(query),
  ]);
  return json({ now: ctx.now(), total, alerts });
}

/**
 * `GET /api/agents`: one page of nodes with their status, filtered, sorted and
 * counted by the store (docs/API.md), so a request costs the same with a
 * hundred nodes as with a hundred thousand.
 *
 * @module
 */

import { statusCutoffs } from "../liveness/mod.ts";
import {
  AGENT_CURSOR_PATTERN,
  AGENT_FILTER_KEYS,
  AGENT_MATCHES,
  AGENT_SORTS,
  AGENT_STATUSES,
  type AgentMatch,
  type AgentQuery,
  type AgentSort,
  type AgentStatus,
  DEFAULT_AGENT_PAGE,
  MAX_AGENT_CURSOR_CHARS,
  MAX_AGENT_FILTER_CHARS,
  MAX_AGENT_OFFSET,
  MAX_AGENT_PAGE,
  StoreError,
} from "../store/mod.ts";
import { toAgentView } from "./agent_view.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem } from "./http.ts";

type Parsed = { ok: true; query: Omit<AgentQuery, "cutoffs"> } | { ok: false; reason: string };

/**
 * Reads the filters, order and page of `/api/agents` from a query string.
 *
 * @param params The query string.
 * @returns The store query without its cutoffs, or a one-line reason.
 * @example
 * ```ts
 * parseAgentQuery(new URLSearchParams("status=late&limit=50"));
 * ```
 */
export function parseAgentQuery(params: URLSearchParams): Parsed {
  const query: { -readonly [K in keyof AgentQuery]?: AgentQuery[K] } = {};
  const status = params.get("status");
  if (status !== null && status !== "") {
    if (!AGENT_STATUSES.includes(status as AgentStatus)) {
      return { ok: false, reason: `status must be one of ${AGENT_STATUSES.join(", ")}` };
    }
    query.status = status as AgentStatus;
  }
  for (const key of AGENT_FILTER_KEYS) {
    const text = params.get(key);
    if (text === null || text === "") continue;
    if (text.length > MAX_AGENT_FILTER_CHARS) {
      return { ok: false, reason: `${key} must be at most ${MAX_AGENT_FILTER_CHARS} characters` };
    }
    query[key] = text;
  }
  const match = params.get("match");
  if (match !== null && match !== "") {
    if (!AGENT_MATCHES.includes(match as AgentMatch)) {
      return { ok: false, reason: `match must be one of ${AGENT_MATCHES.join(", ")}` };
    }
    query.match = match as AgentMatch;
  }
  const sort = params.get("sort");
  if (sort !== null && sort !== "") {
    if (!AGENT_SORTS.includes(sort as AgentSort)) {
      return { ok: false, reason: `sort must be one of ${AGENT_SORTS.join(", ")}` };
    }
    query.sort = sort as AgentSort;
  }
  const order = params.get("order");
  if (order !== null && order !== "" && order !== "asc" && order !== "desc") {
    return { ok: false, reason: "order must be asc or desc" };
  }
  if (order === "desc") query.descending = true;
  const limit = integer(params.get("limit"), 1, MAX_AGENT_PAGE);
  if (limit === null) return { ok: false, reason: `limit must be 1 to ${MAX_AGENT_PAGE}` };
  if (limit !== undefined) query.limit = limit;
  const offset = integer(params.get("offset"), 0, MAX_AGENT_OFFSET);
  if (offset === null) return { ok: false, reason: `offset must be 0 to ${MAX_AGENT_OFFSET}` };
  if (offset !== undefined) query.offset = offset;
  const after = params.get("after");
  if (after !== null && after !== "") {
    // The store checks what it names; here only its size and alphabet.
    if (after.length > MAX_AGENT_CURSOR_CHARS || !AGENT_CURSOR_PATTERN.test(after)) {
      return { ok: false, reason: "after must be the next cursor of a previous page" };
    }
    if (offset !== undefined && offset !== 0) {
      return { ok: false, reason: "offset and after cannot be combined" };
    }
    query.after = after;
  }
  return { ok: true, query };
}

/** A decimal integer within bounds; undefined when absent, null when invalid. */
function integer(text: string | null, min: number, max: number): number | undefined | null {
  if (text === null || text === "") return undefined;
  if (!/^[0-9]{1,9}$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}

/**
 * `GET /api/agents?status=&name=&os=&version=&address=&match=&sort=&order=&offset=&after=&limit=`.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns `{now, heartbeatSeconds, agents: AgentView[], total, counts, offset, limit, next}`,
 *   or 400 with a one-line reason.
 * @example
 * ```ts
 * await listAgents(req, ctx);
 * ```
 */
export async function listAgents(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const parsed = parseAgentQuery(req.url.searchParams);
  if (!parsed.ok) return problem(400, parsed.reason);
  ctx.stats.start();
  const now = ctx.now();
  let page;
  try {
    page = await ctx.store.queryAgents({
      ...parsed.query,
      cutoffs: statusCutoffs(now, ctx.heartbeatSeconds),
    });
  } catch (error) {
    if (error instanceof StoreError && error.code === "invalid") return problem(400, error.message);
    throw error;
  }
  const connected = ctx.connectedAgentIds();
  const agents = page.agents.map((agent) =>
    toAgentView(agent, {
      connected: connected.has(agent.id),
      eventsLastHour: ctx.stats.eventsLastHour(agent.id),
    })
  );
  return json({
    now,
    heartbeatSeconds: ctx.heartbeatSeconds,
    agents,
    total: page.total,
    counts: page.counts,
    offset: parsed.query.offset ?? 0,
    limit: parsed.query.limit ?? DEFAULT_AGENT_PAGE,
    next: page.next,
  });
}

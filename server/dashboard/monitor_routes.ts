/**
 * Monitoring endpoints: nodes and their status, statistics, health and
 * Prometheus metrics.
 *
 * @module
 */

import { PROMETHEUS_CONTENT_TYPE } from "../../common/prometheus_text.ts";
import { statusCutoffs } from "../liveness/mod.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem } from "./http.ts";
import { storageMetrics } from "./storage_routes.ts";

export { listAgents } from "./agent_routes.ts";

/**
 * `GET /api/stats?range=hour|day`: events per minute by severity, failed
 * logins, top hosts and programs.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns A {@linkcode StatsSummary}.
 * @example
 * ```ts
 * await getStats(req, ctx);
 * ```
 */
export function getStats(req: RouteRequest, ctx: DashboardContext): Response {
  const range = req.url.searchParams.get("range") ?? "hour";
  if (range !== "hour" && range !== "day") return problem(400, "range must be hour or day");
  ctx.stats.start();
  return json(ctx.stats.summary(range));
}

/**
 * `GET /healthz`: 200 while the server runs, its database answers, its
 * writer worker is alive and every listener accepts; 503 `unavailable`
 * naming what fails otherwise. 503 `degraded` when the start-up integrity
 * check found damage, which only an operator can repair (docs/PRODUCTION.md).
 *
 * @param _req The request.
 * @param ctx The console context.
 * @returns `{status: "ok", integrity, writer, listeners}`, or 503 with
 *   `{status: "unavailable" | "degraded", ..., problems}`.
 * @example
 * ```ts
 * await health(req, ctx);
 * ```
 */
export async function health(_req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const integrity = ctx.databaseIntegrity();
  const components = ctx.components();
  const listeners = Object.fromEntries(
    Object.entries(components.listeners).map(([name, ok]) => [name, ok ? "ok" : "failing"]),
  );
  const parts = {
    integrity: integrity.status,
    writer: components.writer ? "ok" : "failing",
    listeners,
  };
  const problems: string[] = [];
  if (!components.writer) problems.push("The writer worker has stopped: nothing can be stored");
  for (const [name, ok] of Object.entries(components.listeners)) {
    if (!ok) problems.push(`The ${name} listener cannot accept connections`);
  }
  if (problems.length === 0 && integrity.status === "corrupt") {
    return json({
      status: "degraded",
      ...parts,
      problems: integrity.problems.slice(0, 5),
    }, { status: 503 });
  }
  try {
    await ctx.store.queryEvents({ limit: 1 });
  } catch {
    problems.push("Database unavailable");
  }
  if (problems.length > 0) {
    return json({ status: "unavailable", ...parts, problems }, { status: 503 });
  }
  return json({ status: "ok", ...parts });
}

/**
 * `GET /metrics`: Prometheus text format.
 *
 * @param _req The request.
 * @param ctx The console context.
 * @returns The metrics.
 * @example
 * ```ts
 * await metrics(req, ctx);
 * ```
 */
export async function metrics(_req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const now = ctx.now();
  // Counted by the store through its liveness index, never row by row here.
  const { counts } = await ctx.store.queryAgents({
    cutoffs: statusCutoffs(now, ctx.heartbeatSeconds),
    limit: 1,
  });
  const byStatus: Record<string, number> = { ...counts };
  const protocol = ctx.protocolGauges();
  const textIndexLag = await ctx.store.textIndexLag?.().catch(() => undefined);
  const text = ctx.metrics.render({
    queueDepth: protocol.queueDepth,
    connections: protocol.connections,
    agentsByStatus: byStatus,
    liveClients: ctx.live.clients,
    sessions: ctx.sessions.size,
    ...(protocol.syslog ? { syslog: protocol.syslog } : {}),
    textIndexLag,
    webhook: protocol.webhook,
  });
  // Database size and the oldest event kept (storage_routes.ts).
  return new Response(text + await storageMetrics(ctx), {
    headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
  });
}

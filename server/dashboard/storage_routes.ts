/**
 * Storage figures for the console: the oldest event retention has
 * kept and the size of the database, shown beside the statistics.
 *
 * @module
 */

import { PrometheusText } from "../../common/prometheus_text.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json } from "./http.ts";

/** Body of `GET /api/storage`; every field is null when the store cannot tell. */
export interface StorageView {
  /** Receive time of the oldest event kept, ms since the epoch. */
  readonly oldestReceivedAt: number | null;
  /** Event time of that event, ms since the epoch. */
  readonly oldestEventTs: number | null;
  /** Bytes the data takes. */
  readonly usedBytes: number | null;
  /** Bytes of the database file. */
  readonly fileBytes: number | null;
}

/**
 * `GET /api/storage`: the oldest event kept and the database size.
 *
 * @param _req The request.
 * @param ctx The console context.
 * @returns A {@linkcode StorageView}.
 * @example
 * ```ts
 * await getStorage(req, ctx);
 * ```
 */
export async function getStorage(_req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const info = await ctx.store.storageInfo?.();
  const view: StorageView = {
    oldestReceivedAt: info?.oldestReceivedAt ?? null,
    oldestEventTs: info?.oldestEventTs ?? null,
    usedBytes: info?.usedBytes ?? null,
    fileBytes: info?.fileBytes ?? null,
  };
  return json(view);
}

/**
 * Prometheus lines for `/metrics`: database size and the oldest event kept.
 *
 * @param ctx The console context.
 * @returns Text to append to the exposition (empty when the store cannot tell).
 * @example
 * ```ts
 * const text = ctx.metrics.render(gauges) + await storageMetrics(ctx);
 * ```
 */
export async function storageMetrics(ctx: DashboardContext): Promise<string> {
  const info = await ctx.store.storageInfo?.();
  if (!info) return "";
  const text = new PrometheusText();
  const gauge = (name: string, help: string, value: number | null) => {
    if (value !== null) text.metric(name, "gauge", help, [{ value }]);
  };
  gauge("nms_db_file_bytes", "Size of the database file.", info.fileBytes);
  gauge("nms_db_used_bytes", "Bytes the data takes in the database file.", info.usedBytes);
  gauge(
    "nms_oldest_event_received_timestamp_seconds",
    "Receive time of the oldest event kept (Unix time).",
    info.oldestReceivedAt === null ? null : Math.floor(info.oldestReceivedAt / 1000),
  );
  return text.toString();
}

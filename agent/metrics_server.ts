/**
 * The agent's optional metrics endpoint (`--metrics-port`): `GET /metrics`,
 * its counters in the Prometheus text format (common/prometheus_text.ts), for
 * the same scraper that reads the server's `/metrics`, and `GET /healthz` for
 * a container or service health check. Off unless a port is given; listens on
 * loopback unless told otherwise, since it names the files the agent follows.
 *
 * @module
 */

import { writeBuildInfo, writeProcessMetrics } from "../common/process_metrics.ts";
import { PROMETHEUS_CONTENT_TYPE, PrometheusText } from "../common/prometheus_text.ts";
import type { AgentStats, FileLag } from "./agent.ts";
import { BUILD_COMMIT, BUILD_VERSION } from "./build_info.ts";

/** Default address of the metrics endpoint: loopback only. */
export const DEFAULT_METRICS_HOSTNAME = "127.0.0.1";

/** Most followed paths listed with their own `bytes_behind` line; more are summed only. */
export const MAX_METRICS_FILES = 1_000;

/** What the endpoint reads: a running agent (`AgentHandle`). */
export interface AgentMetricsSource {
  /** Its counters. */
  readonly stats: AgentStats;
  /**
   * Bytes behind per followed path.
   *
   * @returns One entry per followed file.
   */
  fileLag(): Promise<FileLag[]>;
}

/** Options of {@linkcode startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /**
   * Address to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
}

/** A running metrics endpoint. */
export interface MetricsServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Renders the agent's counters in the Prometheus text format.
 *
 * @param stats A snapshot of the counters.
 * @param files Bytes behind per followed path.
 * @returns The exposition text.
 * @example
 * ```ts
 * renderAgentMetrics(agent.stats, await agent.fileLag());
 * ```
 */
export function renderAgentMetrics(stats: AgentStats, files: readonly FileLag[]): string {
  const one = (value: number) => [{ value }];
  const text = new PrometheusText();
  writeBuildInfo(text, { version: BUILD_VERSION, commit: BUILD_COMMIT });
  writeProcessMetrics(text);
  return text
    .metric(
      "nms_agent_lines_read_total",
      "counter",
      "Lines read from the followed files.",
      one(stats.linesRead),
    )
    .metric(
      "nms_agent_lines_sent_total",
      "counter",
      "Event lines written to the server, resends included.",
      one(stats.linesSent),
    )
    .metric(
      "nms_agent_lines_acknowledged_total",
      "counter",
      "Lines the server acknowledged, by outcome.",
      [
        { labels: { result: "stored" }, value: stats.linesStored },
        { labels: { result: "duplicate" }, value: stats.linesDuplicate },
        { labels: { result: "failed" }, value: stats.linesFailed },
      ],
    )
    .metric(
      "nms_agent_lines_too_long_total",
      "counter",
      "Lines dropped for being too long.",
      one(stats.linesTooLong),
    )
    .metric(
      "nms_agent_lines_filtered_total",
      "counter",
      "Lines dropped by --include, --exclude-line or --min-severity (consumed, not sent).",
      one(stats.linesFiltered),
    )
    .metric(
      "nms_agent_journal_entries_total",
      "counter",
      "Journal entries read from journalctl (--journal).",
      one(stats.journalEntries),
    )
    .metric(
      "nms_agent_followed_files",
      "gauge",
      "Files followed now (paths and glob matches).",
      one(stats.followedFiles),
    )
    .metric(
      "nms_agent_open_files",
      "gauge",
      "Followed files open now while their path names them (at most --max-open-files).",
      one(stats.openFiles),
    )
    .metric(
      "nms_agent_state_written_bytes_total",
      "counter",
      "Bytes written to the state files (whole state and changes).",
      one(stats.stateBytesWritten),
    )
    .metric(
      "nms_agent_state_syncs_total",
      "counter",
      "fsync and fdatasync calls made for the state files.",
      one(stats.stateSyncs),
    )
    .metric(
      "nms_agent_lines_in_flight",
      "gauge",
      "Lines sent and not yet acknowledged.",
      one(stats.inFlightLines),
    )
    .metric(
      "nms_agent_bytes_behind",
      "gauge",
      "Bytes of a followed file beyond its acknowledged offset.",
      files.slice(0, MAX_METRICS_FILES).map((f) => ({
        labels: { path: f.path },
        value: f.lagBytes,
      })),
    )
    .metric(
      "nms_agent_backlog_bytes",
      "gauge",
      "Bytes behind over all followed files.",
      one(files.reduce((sum, f) => sum + f.lagBytes, 0)),
    )
    .metric(
      "nms_agent_connects_total",
      "counter",
      "Successful logins to the server.",
      one(stats.connects),
    )
    .metric(
      "nms_agent_reconnects_total",
      "counter",
      "Logins after the first one (the connection was lost and made again).",
      one(Math.max(0, stats.connects - 1)),
    )
    .metric(
      "nms_agent_connect_failures_total",
      "counter",
      "Connection attempts that failed.",
      one(stats.connectFailures),
    )
    .metric(
      "nms_agent_disconnects_total",
      "counter",
      "Sessions that ended other than by shutdown.",
      one(stats.disconnects),
    )
    .metric(
      "nms_agent_rotations_total",
      "counter",
      "File rotations detected.",
      one(stats.rotations),
    )
    .metric(
      "nms_agent_truncations_total",
      "counter",
      "File truncations detected.",
      one(stats.truncations),
    )
    .metric(
      "nms_agent_connected",
      "gauge",
      "1 while logged in to the server.",
      one(stats.state === "connected" ? 1 : 0),
    )
    .toString();
}

/** Body of the agent's `GET /healthz`. */
export interface AgentHealth {
  /** `ok` while logged in to a server, else `disconnected` (HTTP 503). */
  readonly status: "ok" | "disconnected";
  /** The session's state: `connecting`, `connected`, `disconnected`, `stopping`, … */
  readonly state: string;
  /** Lines sent and not yet acknowledged. */
  readonly linesInFlight: number;
}

/**
 * The agent's health: 200 while it is logged in to a server, 503 otherwise.
 * A server that is down is not the agent's fault, but it is what an operator
 * must see: nothing is shipped meanwhile (the lines wait in their files).
 *
 * @param stats The agent's counters.
 * @returns The HTTP status and the body.
 * @example
 * ```ts
 * agentHealth(agent.stats); // { status: 200, body: { status: "ok", ... } }
 * ```
 */
export function agentHealth(stats: AgentStats): { status: number; body: AgentHealth } {
  const connected = stats.state === "connected";
  return {
    status: connected ? 200 : 503,
    body: {
      status: connected ? "ok" : "disconnected",
      state: stats.state,
      linesInFlight: stats.inFlightLines,
    },
  };
}

/**
 * Serves `GET /metrics` and `GET /healthz` for a running agent.
 *
 * @param source The agent.
 * @param options Port and address.
 * @returns The server; close it when the agent stops.
 * @example
 * ```ts
 * await using metrics = startMetricsServer(agent, { port: 9101 });
 * ```
 */
export function startMetricsServer(
  source: AgentMetricsSource,
  options: MetricsServerOptions,
): MetricsServer {
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname ?? DEFAULT_METRICS_HOSTNAME,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/metrics" && url.pathname !== "/healthz") {
      return new Response("Not found\n", { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET" } });
    }
    if (url.pathname === "/healthz") {
      const { status, body } = agentHealth(source.stats);
      return new Response(request.method === "HEAD" ? null : JSON.stringify(body) + "\n", {
        status,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      });
    }
    const text = renderAgentMetrics(source.stats, await source.fileLag());
    return new Response(request.method === "HEAD" ? null : text, {
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
    });
  });
  const addr = server.addr as Deno.NetAddr;
  let closing: Promise<void> | undefined;
  const close = () => closing ??= server.shutdown();
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Starts the metrics endpoint when `--metrics-port` is set.
 *
 * @param agent The running agent.
 * @param flags The parsed `run` flags.
 * @returns The endpoint, or undefined when off.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @example
 * ```ts
 * const metrics = startMetricsFromFlags(agent, { metricsPort: 9101 });
 * await metrics?.close();
 * ```
 */
export function startMetricsFromFlags(
  agent: AgentMetricsSource,
  flags: { metricsPort?: number | undefined; metricsHost?: string | undefined },
): MetricsServer | undefined {
  if (flags.metricsPort === undefined) return undefined;
  return startMetricsServer(agent, {
    port: flags.metricsPort,
    hostname: flags.metricsHost ?? DEFAULT_METRICS_HOSTNAME,
  });
}

/**
 * The agent's optional `/metrics` endpoint (issue 10, `--metrics-port`): its
 * counters in the Prometheus text format, for the same scraper that reads the
 * server's `/metrics`. Off unless a port is given; listens on loopback unless
 * told otherwise, since it names the files the agent follows.
 *
 * @module
 */

import type { AgentStats, FileLag } from "./agent.ts";

/** Default address of the metrics endpoint: loopback only. */
export const DEFAULT_METRICS_HOSTNAME = "127.0.0.1";

/** Content type of the Prometheus text exposition format. */
const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Most followed paths listed with their own `bytes_behind` line; more are summed only. */
export const MAX_METRICS_FILES = 1_000;

/** What the endpoint reads: a running agent (`AgentHandle`). */
export interface AgentMetricsSource {
  readonly stats: AgentStats;
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

/** A Prometheus label value: backslash, quote and newline escaped. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Renders the agent's counters in the Prometheus text format.
 *
 * @param stats A snapshot of the counters.
 * @param files Bytes behind per followed path.
 * @param startedAt When the agent started, ms since the epoch.
 * @returns The exposition text.
 * @example
 * ```ts
 * renderAgentMetrics(agent.stats, await agent.fileLag(), started);
 * ```
 */
export function renderAgentMetrics(
  stats: AgentStats,
  files: readonly FileLag[],
  startedAt: number,
): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const counter = (name: string, help: string, value: number) =>
    metric(name, "counter", help, [["", value]]);
  counter("nms_agent_lines_read_total", "Lines read from the followed files.", stats.linesRead);
  counter(
    "nms_agent_lines_sent_total",
    "Event lines written to the server, resends included.",
    stats.linesSent,
  );
  metric(
    "nms_agent_lines_acknowledged_total",
    "counter",
    "Lines the server acknowledged, by outcome.",
    [
      ['{result="stored"}', stats.linesStored],
      ['{result="duplicate"}', stats.linesDuplicate],
      ['{result="failed"}', stats.linesFailed],
    ],
  );
  counter(
    "nms_agent_lines_too_long_total",
    "Lines dropped for being too long.",
    stats.linesTooLong,
  );
  // Sources and filters (issue 3).
  counter(
    "nms_agent_lines_filtered_total",
    "Lines dropped by --include, --exclude-line or --min-severity (consumed, not sent).",
    stats.linesFiltered,
  );
  counter(
    "nms_agent_journal_entries_total",
    "Journal entries read from journalctl (--journal).",
    stats.journalEntries,
  );
  metric("nms_agent_followed_files", "gauge", "Files followed now (paths and glob matches).", [[
    "",
    stats.followedFiles,
  ]]);
  metric("nms_agent_lines_in_flight", "gauge", "Lines sent and not yet acknowledged.", [[
    "",
    stats.inFlightLines,
  ]]);
  metric(
    "nms_agent_bytes_behind",
    "gauge",
    "Bytes of a followed file beyond its acknowledged offset.",
    files.slice(0, MAX_METRICS_FILES).map((f) => [`{path="${label(f.path)}"}`, f.lagBytes]),
  );
  metric("nms_agent_bytes_behind_total", "gauge", "Bytes behind over all followed files.", [[
    "",
    files.reduce((sum, f) => sum + f.lagBytes, 0),
  ]]);
  counter("nms_agent_connects_total", "Successful logins to the server.", stats.connects);
  counter(
    "nms_agent_reconnects_total",
    "Logins after the first one (the connection was lost and made again).",
    Math.max(0, stats.connects - 1),
  );
  counter(
    "nms_agent_connect_failures_total",
    "Connection attempts that failed.",
    stats.connectFailures,
  );
  counter(
    "nms_agent_disconnects_total",
    "Sessions that ended other than by shutdown.",
    stats.disconnects,
  );
  counter("nms_agent_rotations_total", "File rotations detected.", stats.rotations);
  counter("nms_agent_truncations_total", "File truncations detected.", stats.truncations);
  metric("nms_agent_connected", "gauge", "1 while logged in to the server.", [[
    "",
    stats.state === "connected" ? 1 : 0,
  ]]);
  metric("nms_agent_start_time_seconds", "gauge", "When the agent started (Unix time).", [[
    "",
    Math.floor(startedAt / 1000),
  ]]);
  return lines.join("\n") + "\n";
}

/**
 * Serves `GET /metrics` for a running agent.
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
  const startedAt = Date.now();
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname ?? DEFAULT_METRICS_HOSTNAME,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/metrics") return new Response("Not found\n", { status: 404 });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET" } });
    }
    const text = renderAgentMetrics(source.stats, await source.fileLag(), startedAt);
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

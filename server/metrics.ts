/**
 * Counters of one running server, rendered in the Prometheus text format by
 * `GET /metrics` (common/prometheus_text.ts). Hot paths increment them once
 * per batch, never per line.
 *
 * @module
 */

import { PrometheusText } from "../common/prometheus_text.ts";

/**
 * Upper bounds of the request latency histogram, in seconds. A request slower
 * than the last bound is counted only in `+Inf`.
 */
export const REQUEST_LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
];

/**
 * Most distinct route labels kept in the latency histogram. Routes are a fixed
 * table, so this only guards against a programming error; later labels fold
 * into `other`.
 */
const MAX_ROUTE_LABELS = 64;

/** Gauges read at scrape time from the parts of the server that own them. */
export interface MetricsGauges {
  /** Event batches queued or in progress in the worker pool. */
  readonly queueDepth: number;
  /** Open agent protocol connections. */
  readonly connections: number;
  /** Nodes per status (`alive`, `late`, ...). */
  readonly agentsByStatus: Readonly<Record<string, number>>;
  /** Open live-stream (SSE) clients of the web console. */
  readonly liveClients: number;
  /** Console sessions that have not expired. */
  readonly sessions: number;
}

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * The counters of one server.
 *
 * @example
 * ```ts
 * const metrics = new ServerMetrics();
 * metrics.eventsReceived += 1000;
 * metrics.observeRequest("GET /api/logs", 0.004);
 * console.log(metrics.render({ queueDepth: 0, connections: 1, agentsByStatus: {}, liveClients: 0, sessions: 0 }));
 * ```
 */
export class ServerMetrics {
  /** Event lines read from agents and handed to the worker pool. */
  eventsReceived = 0;
  /** Events committed to the database (duplicates excluded). */
  eventsCommitted = 0;
  /** Events whose origin was already stored (resends after a lost ACK). */
  eventsDuplicate = 0;
  /** Events answered with `ACK FAIL Internal error` because storing failed. */
  eventsFailed = 0;
  /** Console logins by outcome. */
  readonly consoleLogins = { ok: 0, failed: 0, throttled: 0 };
  /** Passwords checked with scrypt (a known user's or the unknown-user decoy), by channel. */
  readonly passwordChecks = { agent: 0, console: 0 };
  /** 1 when the start-up integrity check of the database passed, 0 when it failed, null before. */
  databaseIntegrityOk: number | null = null;
  readonly #latency = new Map<string, Histogram>();
  readonly #started = Date.now();

  /**
   * Records how long one HTTP request took.
   *
   * @param route The route label, e.g. `GET /api/logs` (never a raw request path).
   * @param seconds Duration.
   */
  observeRequest(route: string, seconds: number): void {
    let histogram = this.#latency.get(route);
    if (!histogram) {
      if (this.#latency.size >= MAX_ROUTE_LABELS) return this.observeRequest("other", seconds);
      histogram = { counts: REQUEST_LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      this.#latency.set(route, histogram);
    }
    for (let i = 0; i < REQUEST_LATENCY_BUCKETS_SECONDS.length; i++) {
      if (seconds <= REQUEST_LATENCY_BUCKETS_SECONDS[i]!) histogram.counts[i]!++;
    }
    histogram.sum += seconds;
    histogram.count++;
  }

  /**
   * Renders every metric in the Prometheus text exposition format (0.0.4).
   *
   * @param gauges Current values owned by other parts of the server.
   * @returns The text, ending with a newline.
   */
  render(gauges: MetricsGauges): string {
    const one = (value: number) => [{ value }];
    const byLabel = (label: string, counts: Readonly<Record<string, number>>) =>
      Object.entries(counts).map(([name, value]) => ({ labels: { [label]: name }, value }));
    return new PrometheusText()
      .metric(
        "nms_events_received_total",
        "counter",
        "Event lines received from agents.",
        one(this.eventsReceived),
      )
      .metric(
        "nms_events_committed_total",
        "counter",
        "Events committed to the database.",
        one(this.eventsCommitted),
      )
      .metric(
        "nms_events_duplicate_total",
        "counter",
        "Resent events that were already stored.",
        one(this.eventsDuplicate),
      )
      .metric(
        "nms_events_failed_total",
        "counter",
        "Events that could not be stored.",
        one(this.eventsFailed),
      )
      .metric(
        "nms_queue_depth",
        "gauge",
        "Event batches queued or in progress in the worker pool.",
        one(gauges.queueDepth),
      )
      .metric(
        "nms_connections",
        "gauge",
        "Open agent protocol connections.",
        one(gauges.connections),
      )
      .metric(
        "nms_agents",
        "gauge",
        "Registered nodes by status.",
        byLabel("status", gauges.agentsByStatus),
      )
      .metric(
        "nms_console_live_clients",
        "gauge",
        "Open live-stream clients of the web console.",
        one(gauges.liveClients),
      )
      .metric(
        "nms_console_sessions",
        "gauge",
        "Unexpired web console sessions.",
        one(gauges.sessions),
      )
      .metric(
        "nms_console_logins_total",
        "counter",
        "Web console login attempts by outcome.",
        byLabel("outcome", this.consoleLogins),
      )
      .metric(
        "nms_password_checks_total",
        "counter",
        "Passwords checked with scrypt, by channel (refused and locked attempts are not checked).",
        byLabel("channel", this.passwordChecks),
      )
      .metric(
        "nms_database_integrity_ok",
        "gauge",
        "1 when the start-up integrity check of the database passed, 0 when it found damage.",
        this.databaseIntegrityOk === null ? [] : one(this.databaseIntegrityOk),
      )
      .histogram(
        "nms_http_request_duration_seconds",
        "Web console and API request latency.",
        REQUEST_LATENCY_BUCKETS_SECONDS,
        [...this.#latency].map(([route, h]) => ({ labels: { route }, ...h })),
      )
      .metric(
        "nms_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        one(Math.floor((Date.now() - this.#started) / 1000)),
      )
      .toString();
  }
}

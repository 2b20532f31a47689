/**
 * Counters of one running server, rendered in the Prometheus text format by
 * `GET /metrics` (common/prometheus_text.ts). Hot paths increment them once
 * per batch, never per line.
 *
 * @module
 */

import { writeBuildInfo, writeProcessMetrics } from "../common/process_metrics.ts";
import { PrometheusText } from "../common/prometheus_text.ts";
import { BUILD_COMMIT, BUILD_VERSION } from "./build_info.ts";
import type { SyslogStats } from "./syslog/mod.ts";

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
 * Upper bounds of the writer's commit latency histogram, in seconds: from a
 * small group on a fast disk to a large group waiting for fsync.
 */
export const COMMIT_LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
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
  /** Counters of the syslog receiver (all zero when no syslog listener runs). */
  readonly syslog?: SyslogStats;
  /** Events stored but not yet in the full-text index; undefined when the store has no such index. */
  readonly textIndexLag?: number | undefined;
  /** The alert webhook's counters; undefined when no webhook is configured. */
  readonly webhook?: WebhookCounts | undefined;
}

/** What the alert webhook has done (server/rules/webhook.ts). */
export interface WebhookCounts {
  /** Notices delivered (2xx answer). */
  readonly sent: number;
  /** Notices given up after every attempt failed. */
  readonly failed: number;
  /** Notices dropped because the queue was full. */
  readonly dropped: number;
  /** Notices waiting to be sent. */
  readonly pending: number;
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
  /** Agent logins with a resumption ticket (`LOGIN @ticket`), by outcome: no scrypt. */
  readonly ticketLogins = { ok: 0, failed: 0 };
  /** Resumption tickets handed out (`TICKET`). */
  ticketsIssued = 0;
  /** 1 when the start-up integrity check of the database passed, 0 when it failed, null before. */
  databaseIntegrityOk: number | null = null;
  /** REGISTER commands stored. */
  registrations = 0;
  /** HEARTBEAT commands stored. */
  heartbeats = 0;
  /** Alerts the detection rules raised (new alerts). */
  alertsRaised = 0;
  /** Matches folded into an alert already raised (its count went up). */
  alertsFolded = 0;
  readonly #latency = new Map<string, Histogram>();
  readonly #commits: Histogram = {
    counts: COMMIT_LATENCY_BUCKETS_SECONDS.map(() => 0),
    sum: 0,
    count: 0,
  };

  /**
   * Records how long one group commit of the writer took (its transaction
   * and the node changes after it), as timed in the writer worker.
   *
   * @param seconds Duration.
   */
  observeCommit(seconds: number): void {
    observe(this.#commits, COMMIT_LATENCY_BUCKETS_SECONDS, seconds);
  }

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
    observe(histogram, REQUEST_LATENCY_BUCKETS_SECONDS, seconds);
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
    const text = new PrometheusText();
    writeBuildInfo(text, { version: BUILD_VERSION, commit: BUILD_COMMIT });
    writeProcessMetrics(text);
    text
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
        "nms_agent_registrations_total",
        "counter",
        "REGISTER commands stored.",
        one(this.registrations),
      )
      .metric(
        "nms_agent_heartbeats_total",
        "counter",
        "HEARTBEAT commands stored.",
        one(this.heartbeats),
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
      .histogram(
        "nms_writer_commit_duration_seconds",
        "Time the writer took per group commit (its transaction and node changes).",
        COMMIT_LATENCY_BUCKETS_SECONDS,
        [{ labels: {}, ...this.#commits }],
      );
    if (gauges.textIndexLag !== undefined) {
      text.metric(
        "nms_text_index_lag_events",
        "gauge",
        "Events stored but not yet in the full-text index (searches scan them).",
        one(gauges.textIndexLag),
      );
    }
    writeSyslogMetrics(text, gauges.syslog);
    text
      .metric(
        "nms_alerts_raised_total",
        "counter",
        "Alerts raised by the detection rules.",
        one(this.alertsRaised),
      )
      .metric(
        "nms_alerts_folded_total",
        "counter",
        "Rule matches folded into an alert already raised.",
        one(this.alertsFolded),
      );
    writeWebhookMetrics(text, gauges.webhook);
    return text
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
        "nms_ticket_logins_total",
        "counter",
        "Agent logins with a resumption ticket, by outcome (checked with one HMAC, no scrypt).",
        byLabel("outcome", this.ticketLogins),
      )
      .metric(
        "nms_tickets_issued_total",
        "counter",
        "Resumption tickets handed out after a password login.",
        one(this.ticketsIssued),
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
      .toString();
  }
}

/** Adds one observation to a histogram with the given bounds. */
function observe(histogram: Histogram, bounds: readonly number[], seconds: number): void {
  for (let i = 0; i < bounds.length; i++) {
    if (seconds <= bounds[i]!) histogram.counts[i]!++;
  }
  histogram.sum += seconds;
  histogram.count++;
}

/** The syslog receiver's counters (server/syslog/stats.ts); nothing when it is absent. */
function writeSyslogMetrics(text: PrometheusText, stats: SyslogStats | undefined): void {
  if (stats === undefined) return;
  const counters: readonly [string, string, number][] = [
    ["messages_received", "Syslog messages accepted from allowed senders.", stats.received],
    ["messages_stored", "Syslog messages committed to the store.", stats.stored],
    ["messages_failed", "Syslog messages the store failed to write.", stats.failed],
    ["messages_truncated", "Syslog messages longer than the limit, stored cut.", stats.truncated],
    [
      "datagrams_denied",
      "UDP datagrams from senders outside the allow-list.",
      stats.deniedDatagrams,
    ],
    [
      "datagrams_dropped",
      "UDP datagrams dropped because the queue in front of the workers was full.",
      stats.droppedDatagrams,
    ],
    [
      "connections_denied",
      "TCP and TLS connections from senders outside the allow-list, closed at once.",
      stats.deniedConnections,
    ],
    [
      "connections_refused",
      "TCP and TLS connections refused at the connection limit.",
      stats.refusedConnections,
    ],
  ];
  for (const [name, help, value] of counters) {
    text.metric(`nms_syslog_${name}_total`, "counter", help, [{ value }]);
  }
  text.metric(
    "nms_syslog_connections",
    "gauge",
    "Open syslog TCP and TLS connections.",
    [{ value: stats.connections }],
  );
}

/** The alert webhook's counters; nothing when no webhook is configured. */
function writeWebhookMetrics(text: PrometheusText, webhook: WebhookCounts | undefined): void {
  if (webhook === undefined) return;
  text
    .metric(
      "nms_alert_webhook_deliveries_total",
      "counter",
      "Alert notices the webhook accepted (2xx answer).",
      [{ value: webhook.sent }],
    )
    .metric(
      "nms_alert_webhook_failures_total",
      "counter",
      "Alert notices given up after every attempt failed.",
      [{ value: webhook.failed }],
    )
    .metric(
      "nms_alert_webhook_dropped_total",
      "counter",
      "Alert notices dropped because the webhook's queue was full.",
      [{ value: webhook.dropped }],
    )
    .metric(
      "nms_alert_webhook_queue",
      "gauge",
      "Alert notices waiting to be sent.",
      [{ value: webhook.pending }],
    );
}

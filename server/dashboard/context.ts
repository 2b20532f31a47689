/**
 * What every console route needs: the shared server parts and the request's
 * authenticated user.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { ServerMetrics, WebhookCounts } from "../metrics.ts";
import type { SyslogStats } from "../syslog/stats.ts";
import type { Store, UserRecord } from "../store/store.ts";
import type { LiveHub } from "./live_stream.ts";
import type { LoginThrottle } from "./login_throttle.ts";
import type { Lockout } from "../auth/lockout.ts";
import type { LoginEvent } from "../auth/login_events.ts";
import type { IntegrityState } from "../store/integrity_check.ts";
import type { SecurityEventInput as StoredSecurityEvent } from "../security_event.ts";
import type { Session, SessionStore } from "./session.ts";
import type { StatsCollector } from "./stats_collector.ts";

/**
 * An event NMS records about itself (e.g. a console login), stored like
 * collected logs: severity, text, and for logins its kind and structured fields.
 */
export type SecurityEventInput = Omit<StoredSecurityEvent, "at">;

/** Gauges and counters owned by the ingest side of the server, read at scrape time. */
export interface ProtocolGauges {
  /** Event batches queued or in progress in the worker pool. */
  readonly queueDepth: number;
  /** Open agent connections. */
  readonly connections: number;
  /** Counters of the syslog receiver; absent when the console runs without one. */
  readonly syslog?: SyslogStats;
  /** Counters of the alert webhook; absent when none is configured. */
  readonly webhook?: WebhookCounts | undefined;
}

/** Liveness of the parts ingest depends on, for `/healthz`. */
export interface ComponentHealth {
  /** Whether the writer worker runs (it has not died). */
  readonly writer: boolean;
  /** Whether each listener accepts, by name (`agents`, `syslog-udp`, `syslog-tcp`, `syslog-tls`). */
  readonly listeners: Readonly<Record<string, boolean>>;
}

/** The server parts shared by all console routes. */
export interface DashboardContext {
  readonly store: Store;
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  /** The login lockout shared with the agent protocol; null or absent: none. */
  readonly lockout?: Lockout | null;
  readonly live: LiveHub;
  readonly stats: StatsCollector;
  readonly metrics: ServerMetrics;
  /** Heartbeat interval the agents use, in seconds. */
  readonly heartbeatSeconds: number;
  /** The console is served over TLS (cookies get `Secure`). */
  readonly secure: boolean;
  /** Name of the session cookie (`__Host-` prefixed under TLS). */
  readonly cookieName: string;
  /** Nodes with a registered connection to this server now. */
  readonly connectedAgentIds: () => ReadonlySet<number>;
  readonly protocolGauges: () => ProtocolGauges;
  /** Stores an event about NMS itself; never awaited, never throws. */
  readonly recordSecurityEvent: (event: SecurityEventInput) => void;
  /**
   * Stores the security events of a login attempt from `ip` within their
   * budget (server/auth/login_events.ts); never throws.
   */
  readonly recordLoginEvents: (ip: string, events: readonly LoginEvent[]) => void;
  /** What the start-up integrity check of the database found (`/healthz`). */
  readonly databaseIntegrity: () => IntegrityState;
  /** Whether the writer and the listeners are alive (`/healthz`). */
  readonly components: () => ComponentHealth;
  readonly log: Logger;
  /** Aborted when the server shuts down: long responses (exports) end early. */
  readonly shutdownSignal: AbortSignal;
  readonly now: () => number;
}

/** The authenticated user of a request. */
export interface Auth {
  /** Null when the request authenticated with HTTP Basic (scripts, `/metrics`). */
  readonly session: Session | null;
  /** The user as stored now (current role). */
  readonly user: UserRecord;
}

/** A request as a route handler sees it. */
export interface RouteRequest {
  readonly request: Request;
  readonly url: URL;
  /** Path parameters, e.g. `name` of `/api/users/:name`, already decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The user, for routes that require one. */
  readonly auth: Auth | null;
  /** Client IP address. */
  readonly remoteAddress: string;
}

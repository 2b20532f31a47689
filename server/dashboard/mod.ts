/**
 * The NMS web console: a dark-themed live dashboard and a JSON API, served by
 * nms-server itself with `Deno.serve` in the same process as the agent
 * listener. Browser files live in `static/` and are embedded at build time
 * (see `assets.ts`); the API is documented in docs/API.md.
 *
 * @example
 * ```ts
 * import { startDashboard } from "./server/dashboard/mod.ts";
 * await using dashboard = await startDashboard({ port: 8081, store });
 * console.log(`console at ${dashboard.url}`);
 * ```
 *
 * @module
 */

import { type Logger, silentLogger } from "../log.ts";
import { ServerMetrics } from "../metrics.ts";
import type { Store } from "../store/store.ts";
import { DEFAULT_HEARTBEAT_SECONDS } from "../../protocol/mod.ts";
import { createDashboardHandler } from "./api.ts";
import type {
  ComponentHealth,
  DashboardContext,
  ProtocolGauges,
  SecurityEventInput,
} from "./context.ts";
import { type LiveAlertSource, LiveHub } from "./live_stream.ts";
import { LoginThrottle } from "./login_throttle.ts";
import { Lockout } from "../auth/lockout.ts";
import type { LoginEventGate } from "../auth/login_events.ts";
import type { IntegrityState } from "../store/integrity_check.ts";
import type { LoginFailurePolicy } from "../store/security_store.ts";
import { SessionStore, type SessionStoreOptions } from "./session.ts";
import { StatsCollector } from "./stats_collector.ts";
import { startCredentialRecheck } from "./credential_recheck.ts";

export { createDashboardHandler } from "./api.ts";
export type {
  ComponentHealth,
  DashboardContext,
  ProtocolGauges,
  SecurityEventInput,
} from "./context.ts";
export { type AgentView } from "./agent_view.ts";

/** HTTP port of the console unless told otherwise. */
export const DEFAULT_HTTP_PORT = 8081;

/** TLS certificate and key, PEM-encoded (the text, not file paths). */
export interface DashboardTls {
  readonly cert: string;
  readonly key: string;
}

/** Options of {@linkcode startDashboard}. */
export interface DashboardOptions {
  /** The main thread's store (reads; user management writes). */
  readonly store: Store;
  /**
   * TCP port; 0 picks a free one.
   * @default {DEFAULT_HTTP_PORT}
   */
  readonly port?: number;
  /**
   * Address to listen on.
   * @default {"0.0.0.0"}
   */
  readonly hostname?: string;
  /** Serve HTTPS with this certificate; session cookies then get `Secure`. */
  readonly tls?: DashboardTls;
  /**
   * Heartbeat interval the agents use, in seconds: the basis of node status.
   * @default {DEFAULT_HEARTBEAT_SECONDS}
   */
  readonly heartbeatSeconds?: number;
  /**
   * Counters shown by `/metrics`.
   * @default {a fresh ServerMetrics}
   */
  readonly metrics?: ServerMetrics;
  /**
   * Nodes with a registered connection now.
   * @default {none}
   */
  readonly connectedAgentIds?: () => ReadonlySet<number>;
  /**
   * Queue depth and connection count of the protocol side.
   * @default {zeros}
   */
  readonly protocolGauges?: () => ProtocolGauges;
  /**
   * Stores an event NMS records about itself (console logins, user changes).
   * @default {does nothing}
   */
  readonly recordSecurityEvent?: (event: SecurityEventInput) => void;
  /**
   * Bounds the security events of console logins, with those of the agent
   * protocol (server/auth/login_events.ts).
   * @default {none: every login event goes to recordSecurityEvent}
   */
  readonly loginEvents?: LoginEventGate;
  /**
   * What the start-up integrity check found, for `/healthz`.
   * @default {always "skipped"}
   */
  readonly databaseIntegrity?: () => IntegrityState;
  /**
   * Whether the writer and the listeners are alive, for `/healthz`.
   * @default {always alive, no listeners}
   */
  readonly components?: () => ComponentHealth;
  /** Session expiry and clock. */
  readonly sessions?: SessionStoreOptions;
  /**
   * Poll interval of the live stream, in ms.
   * @default {400}
   */
  readonly livePollMs?: number;
  /**
   * Alerts as they are raised or folded (`server.alerts`): pushed to the
   * console's live stream as `alerts` messages.
   * @default {none: the console only polls GET /api/alerts}
   */
  readonly alerts?: LiveAlertSource;
  /**
   * Diagnostics sink.
   * @default {silentLogger}
   */
  readonly log?: Logger;
  /**
   * Login lockout shared with the agent protocol (server/auth/lockout.ts).
   * @default {null} (only the in-memory per-address throttle)
   */
  readonly lockout?: LoginFailurePolicy | null;
  /** Aborting it shuts the console down. */
  readonly signal?: AbortSignal;
}

/** A running console. */
export interface Dashboard {
  /** The bound address (read the port from here when you passed port 0). */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  /** Resolves when the console has shut down. */
  readonly finished: Promise<void>;
  /** Ends live streams and exports, then stops the HTTP server. Idempotent. */
  shutdown(): Promise<void>;
  /**
   * Serves HTTPS with a new certificate and key from now on (SIGHUP after a
   * renewal); open connections finish on the old one. No-op without TLS.
   *
   * @throws {Error} When the new certificate or key cannot be used; the old one stays.
   */
  reloadTls(tls: DashboardTls): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * How long re-binding the console's port with a new certificate may take, in
 * ms; a browser connecting in between is refused once and retries.
 */
const REBIND_TIMEOUT_MS = 2_000;

/**
 * Starts the web console.
 *
 * @param options Port, store and the server parts it shows.
 * @returns The running console.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @example
 * ```ts
 * await using dashboard = await startDashboard({ port: 0, hostname: "127.0.0.1", store });
 * await fetch(`${dashboard.url}/healthz`);
 * ```
 */
export function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const log = options.log ?? silentLogger;
  const store = options.store;
  const shutdownController = new AbortController();
  const live = new LiveHub(store, {
    ...(options.livePollMs ? { pollMs: options.livePollMs } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
  });
  const stats = new StatsCollector(store, {
    onError: (error) => log.warn("Statistics read failed", { error: error.message }),
  });
  const secure = options.tls !== undefined;
  const recordSecurityEvent = (event: SecurityEventInput) => {
    try {
      options.recordSecurityEvent?.({ severity: event.severity, message: event.message });
    } catch (error) {
      log.warn("Security event not recorded", { error: (error as Error).message });
    }
  };
  const ctx: DashboardContext = {
    store,
    sessions: new SessionStore(options.sessions),
    throttle: new LoginThrottle(),
    lockout: options.lockout ? new Lockout(store.security, options.lockout) : null,
    live,
    stats,
    metrics: options.metrics ?? new ServerMetrics(),
    heartbeatSeconds: options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
    secure,
    // `__Host-` cookies must be Secure, host-only and Path=/: browsers enforce it.
    cookieName: secure ? "__Host-nms_session" : "nms_session",
    connectedAgentIds: options.connectedAgentIds ?? (() => new Set()),
    protocolGauges: options.protocolGauges ?? (() => ({ queueDepth: 0, connections: 0 })),
    recordSecurityEvent: (event) => recordSecurityEvent(event),
    recordLoginEvents: (ip, events) => {
      if (options.loginEvents) options.loginEvents.admit(ip, events);
      else for (const event of events) recordSecurityEvent(event);
    },
    databaseIntegrity: options.databaseIntegrity ?? (() => ({ status: "skipped" })),
    components: options.components ?? (() => ({ writer: true, listeners: {} })),
    log,
    shutdownSignal: shutdownController.signal,
    now: Date.now,
  };
  const handle = createDashboardHandler(ctx);
  // Removed users and changed passwords or roles end sessions and live streams.
  const recheck = startCredentialRecheck(ctx);
  const serve = (port: number, tls: DashboardTls | undefined) =>
    Deno.serve({
      port,
      hostname: options.hostname ?? "0.0.0.0",
      ...(tls ? { cert: tls.cert, key: tls.key } : {}),
      onListen: () => {},
      onError: (error) => {
        log.error("Console request failed", { error: (error as Error).message });
        return new Response("Internal error", { status: 500 });
      },
    }, (request, info) => handle(request, (info.remoteAddr as Deno.NetAddr).hostname));
  let server = serve(options.port ?? DEFAULT_HTTP_PORT, options.tls);
  /** Servers replaced by a certificate reload, still finishing their open requests. */
  const retired: Deno.HttpServer[] = [];
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `${secure ? "https" : "http"}://${host}:${addr.port}`;

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      shutdownController.abort();
      await recheck.stop();
      live.close();
      stats.close();
      await Promise.all([server, ...retired].map((s) => s.shutdown()));
    })();
    return stopping;
  };
  const reloadTls = async (tls: DashboardTls) => {
    if (!secure || stopping) return;
    // A bad certificate must not take the console down: try it on a spare port first.
    const probe = serve(0, tls);
    await probe.shutdown();
    const old = server;
    retired.push(old);
    // Stops accepting at once; requests in progress (live streams) finish on it.
    void old.shutdown();
    const deadline = Date.now() + REBIND_TIMEOUT_MS;
    for (;;) {
      try {
        server = serve(addr.port, tls);
        return;
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  return Promise.resolve({
    addr: { hostname: addr.hostname, port: addr.port },
    url,
    finished: (async () => {
      // The current server may be replaced by reloads: wait for shutdown itself.
      await new Promise<void>((resolve) =>
        shutdownController.signal.addEventListener("abort", () => resolve(), { once: true })
      );
      await stopping;
    })(),
    shutdown,
    reloadTls,
    [Symbol.asyncDispose]: shutdown,
  });
}

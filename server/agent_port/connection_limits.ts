/**
 * Limits of the agent listener that keep one client, or one address, from
 * using up the server (docs/SECURITY.md): connections in total and
 * per address, an idle timeout, a timeout for a line held incomplete
 * (slow-loris), and a rate of lines per connection enforced by backpressure.
 *
 * @module
 */

/**
 * Open agent connections the server holds at most when its file-descriptor
 * limit is unknown (server/agent_port/fd_limit.ts derives the default from that limit);
 * one more is refused.
 */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Open connections one IP address holds at most; one more is refused. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 64;
/**
 * Seconds a logged-in connection may send nothing before it is closed.
 * Agents send a heartbeat every 30 s by default, so they stay connected.
 */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
/**
 * Seconds a line may stay incomplete (bytes without their newline) before the
 * connection is closed (slow-loris). Also the idle timeout of a connection
 * that has not logged in yet.
 */
export const DEFAULT_LINE_TIMEOUT_SECONDS = 30;
/**
 * Lines per second one connection may send, on average. Beyond it the server
 * stops reading that connection for a moment (TCP backpressure): nothing is
 * refused or lost, the sender is only slowed down. Set above what one server
 * stores per second (docs/BENCHMARKS.md), so that a single agent catching up
 * on a burst is not held back; sharing between busy connections is already
 * fair, because batch credits are handed out in FIFO order. Lower it to cap
 * what one compromised host can take.
 */
export const DEFAULT_MAX_EVENTS_PER_SECOND = 300_000;
/** How often the listener checks the timeouts of its connections, in ms. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * Longest wait, in ms, for a closing connection's client to read its last
 * acknowledgements (and the closing reason) before the socket is closed anyway.
 */
export const CLOSE_GRACE_MS = 2_000;
/** Longest pause of one connection for the rate limit, in ms: it is re-checked after it. */
const MAX_RATE_PAUSE_MS = 1_000;

import { DEFAULT_LOGIN_TIMEOUT_SECONDS, DEFAULT_MAX_PRE_LOGIN_CONNECTIONS } from "./pre_login.ts";
export { DEFAULT_LOGIN_TIMEOUT_SECONDS, DEFAULT_MAX_PRE_LOGIN_CONNECTIONS };

/** Options of the agent listener's limits; each accepts 0 for "no limit". */
export interface ConnectionLimitOptions {
  /**
   * Open connections in total.
   * @default {DEFAULT_MAX_CONNECTIONS}
   */
  readonly maxConnections?: number;
  /**
   * Open connections per client IP address.
   * @default {DEFAULT_MAX_CONNECTIONS_PER_IP}
   */
  readonly maxConnectionsPerIp?: number;
  /**
   * Seconds without a byte from a logged-in client before its connection closes.
   * @default {DEFAULT_IDLE_TIMEOUT_SECONDS}
   */
  readonly idleTimeoutSeconds?: number;
  /**
   * Seconds a line may stay incomplete; also the idle timeout before LOGIN.
   * @default {DEFAULT_LINE_TIMEOUT_SECONDS}
   */
  readonly lineTimeoutSeconds?: number;
  /**
   * Lines per second per connection before reading pauses.
   * @default {DEFAULT_MAX_EVENTS_PER_SECOND}
   */
  readonly maxEventsPerSecond?: number;
  /**
   * Seconds a connection has to log in after it was accepted (server/pre_login.ts).
   * @default {DEFAULT_LOGIN_TIMEOUT_SECONDS}
   */
  readonly loginTimeoutSeconds?: number;
  /**
   * Open connections not logged in yet (server/pre_login.ts).
   * @default {DEFAULT_MAX_PRE_LOGIN_CONNECTIONS}
   */
  readonly maxPreLoginConnections?: number;
}

/** Resolved limits; `Infinity` where unlimited. */
export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly idleTimeoutMs: number;
  readonly lineTimeoutMs: number;
  readonly maxEventsPerSecond: number;
  readonly loginTimeoutMs: number;
  readonly maxPreLoginConnections: number;
}

/**
 * Fills in defaults and validates.
 *
 * @param options Limits, 0 meaning none.
 * @returns The limits in force.
 * @throws {RangeError} When a value is negative or not a number.
 * @example
 * ```ts
 * resolveLimits({ maxConnections: 10 }).maxConnectionsPerIp; // 64
 * ```
 */
export function resolveLimits(options: ConnectionLimitOptions = {}): ConnectionLimits {
  const pick = (name: string, value: number | undefined, fallback: number, scale = 1) => {
    const n = value ?? fallback;
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
      throw new RangeError(`Cannot configure the agent listener: invalid ${name} ${n}`);
    }
    return n === 0 ? Infinity : n * scale;
  };
  return {
    maxConnections: pick("maxConnections", options.maxConnections, DEFAULT_MAX_CONNECTIONS),
    maxConnectionsPerIp: pick(
      "maxConnectionsPerIp",
      options.maxConnectionsPerIp,
      DEFAULT_MAX_CONNECTIONS_PER_IP,
    ),
    idleTimeoutMs: pick(
      "idleTimeoutSeconds",
      options.idleTimeoutSeconds,
      DEFAULT_IDLE_TIMEOUT_SECONDS,
      1000,
    ),
    lineTimeoutMs: pick(
      "lineTimeoutSeconds",
      options.lineTimeoutSeconds,
      DEFAULT_LINE_TIMEOUT_SECONDS,
      1000,
    ),
    maxEventsPerSecond: pick(
      "maxEventsPerSecond",
      options.maxEventsPerSecond,
      DEFAULT_MAX_EVENTS_PER_SECOND,
    ),
    loginTimeoutMs: pick(
      "loginTimeoutSeconds",
      options.loginTimeoutSeconds,
      DEFAULT_LOGIN_TIMEOUT_SECONDS,
      1000,
    ),
    maxPreLoginConnections: pick(
      "maxPreLoginConnections",
      options.maxPreLoginConnections,
      DEFAULT_MAX_PRE_LOGIN_CONNECTIONS,
    ),
  };
}

/**
 * A token bucket of lines per second for one connection. Bursts up to one
 * second's worth are free; beyond them {@linkcode take} says how long to stop
 * reading.
 *
 * @example
 * ```ts
 * const rate = new RateLimiter(50_000);
 * const pauseMs = rate.take(linesInChunk, performance.now());
 * if (pauseMs > 0) await delay(pauseMs);
 * ```
 */
export class RateLimiter {
  readonly #perSecond: number;
  #tokens: number;
  #last = 0;

  /** @param perSecond Lines per second; `Infinity` for no limit. */
  constructor(perSecond: number) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
  }

  /**
   * Spends `count` lines.
   *
   * @param count Lines just read.
   * @param nowMs A monotonic clock, ms.
   * @returns How long to pause reading, in ms (0: go on).
   */
  take(count: number, nowMs: number): number {
    if (this.#perSecond === Infinity || count === 0) return 0;
    if (this.#last !== 0) {
      const refill = (nowMs - this.#last) * this.#perSecond / 1000;
      this.#tokens = Math.min(this.#perSecond, this.#tokens + refill);
    }
    this.#last = nowMs;
    this.#tokens -= count;
    if (this.#tokens >= 0) return 0;
    return Math.min(MAX_RATE_PAUSE_MS, Math.ceil(-this.#tokens * 1000 / this.#perSecond));
  }
}

/**
 * Whether an address is loopback, where a plain-text listener is safe.
 *
 * @param hostname A listen address.
 * @returns True for 127.0.0.0/8, ::1 and `localhost`.
 * @example
 * ```ts
 * isLoopback("127.0.0.1"); // true
 * isLoopback("0.0.0.0"); // false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

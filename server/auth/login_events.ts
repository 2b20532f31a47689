/**
 * The security events of logins, bounded: whatever an unauthenticated peer
 * sends, the events it causes cannot grow the database without limit.
 *
 * - The claimed user name goes into an event only as a short, escaped prefix
 *   ({@linkcode userNameInEvent}).
 * - {@linkcode LoginEventGate} stores failed, refused and lock events only up
 *   to a budget per client address, per network (IPv4 /24, IPv6 /64) and in
 *   total, each per minute; past it, the events of a network are folded into
 *   one summary event with their count and first and last time, written when
 *   the minute ends. The first events of an address always fit, so the
 *   brute-force rules still see 5 failures from one address.
 *
 * The gate runs on the main thread, where both the agent protocol and the
 * web console send their login events, so one budget covers both.
 *
 * @module
 */

import { addressKey, networkKey } from "../net/mod.ts";
import {
  MAX_EVENT_USER_CHARS,
  SECURITY_EVENT_KINDS,
  type SecurityEventFields,
  type SecurityEventInput,
} from "../security_event.ts";
import { isValidUserName } from "../store/user_name.ts";

/** Failed, refused and lock events stored per client address (IPv6: per /64) and window. */
export const LOGIN_EVENTS_PER_ADDRESS = 10;
/** Failed, refused and lock events stored per network (IPv4 /24, IPv6 /64) and window. */
export const LOGIN_EVENTS_PER_NETWORK = 30;
/** Failed, refused and lock events stored per window from all clients together. */
export const LOGIN_EVENTS_PER_WINDOW = 200;
/** Length of the window of the budgets above, in ms: one minute. */
export const LOGIN_EVENT_WINDOW_MS = 60_000;
/**
 * Networks folded separately per window; past it, suppressed events of further
 * networks are folded into one summary for all of them.
 */
export const MAX_FOLDED_NETWORKS = 100;
/** Addresses and networks counted per window; past it, new ones count as over budget. */
const MAX_COUNTED_KEYS = 10_000;
/** Syslog severity of a summary: warning. */
const SUMMARY_SEVERITY = 4;
/** Summary key of the events of networks past {@linkcode MAX_FOLDED_NETWORKS}. */
const ELSEWHERE = "many networks";

/** What a login event is about (its MSGID); only successes are never limited. */
export type LoginEventKind =
  | typeof SECURITY_EVENT_KINDS.loginOk
  | typeof SECURITY_EVENT_KINDS.loginFailed
  | typeof SECURITY_EVENT_KINDS.loginRefused
  | typeof SECURITY_EVENT_KINDS.loginLocked;

/** An event NMS stores about a login attempt (program `nms-server`, facility authpriv). */
export interface LoginEvent {
  readonly kind: LoginEventKind;
  /** Syslog severity: 5 notice for a success, 4 warning for a failure, refusal or lock. */
  readonly severity: number;
  readonly message: string;
  /** User, address and door, for the rules. */
  readonly fields?: SecurityEventFields;
}

/** A security event ready to store. */
export type StoredLoginEvent = SecurityEventInput;

/**
 * A claimed user name as a security event shows it: a valid name as it is
 * (it holds only letters, digits and `_ . @ -`), anything else JSON-quoted
 * and cut to {@linkcode MAX_EVENT_USER_CHARS} characters.
 *
 * @param name What the client sent as its user name.
 * @returns Text safe for one event line, at most about 40 characters.
 * @example
 * ```ts
 * userNameInEvent("admin"); // admin
 * userNameInEvent("x\n".repeat(30000)); // "x\nx\n…"…
 * ```
 */
export function userNameInEvent(name: string): string {
  if (isValidUserName(name)) return name;
  const cut = name.length > MAX_EVENT_USER_CHARS;
  return JSON.stringify(name.slice(0, MAX_EVENT_USER_CHARS)) + (cut ? "…" : "");
}

/** Options of {@linkcode LoginEventGate}. */
export interface LoginEventGateOptions {
  /** Stores one event (e.g. through `WorkerPool.recordEvents`); must not throw. */
  readonly record: (event: StoredLoginEvent) => void;
  /**
   * Clock, ms since the epoch.
   * @default {Date.now}
   */
  readonly now?: () => number;
}

interface Fold {
  count: number;
  first: number;
  last: number;
}

/**
 * Stores login events within their budgets and folds the rest.
 *
 * @example
 * ```ts
 * const gate = new LoginEventGate({ record: (e) => pool.recordEvents(securityEvent(e)) });
 * gate.admit("10.0.0.9", events);
 * gate.close(); // at shutdown: writes the summaries of the current window
 * ```
 */
export class LoginEventGate {
  readonly #record: (event: StoredLoginEvent) => void;
  readonly #now: () => number;
  /** Events stored in this window per `a:<address>` / `n:<network>` key. */
  readonly #counts = new Map<string, number>();
  /** Suppressed events of this window per network (or {@linkcode ELSEWHERE}). */
  readonly #folds = new Map<string, Fold>();
  #total = 0;
  #windowStart = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Events suppressed since the start, for `/metrics`. */
  suppressed = 0;

  /** @param options Where events go, and the clock. */
  constructor(options: LoginEventGateOptions) {
    this.#record = options.record;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Stores the events of one login attempt, or folds those over budget.
   *
   * @param ip The client's IP address.
   * @param events The attempt's events, in order.
   */
  admit(ip: string, events: readonly LoginEvent[]): void {
    if (events.length === 0) return;
    const at = this.#now();
    if (at - this.#windowStart >= LOGIN_EVENT_WINDOW_MS) this.flush(at);
    for (const event of events) {
      if (event.kind === SECURITY_EVENT_KINDS.loginOk || this.#closed || this.#take(ip)) {
        this.#record({ at, ...event });
      } else {
        this.#fold(networkKey(ip), at);
      }
    }
  }

  /**
   * Writes one summary per folded network of the current window and starts a
   * new window. Runs by itself when a window with folded events ends.
   *
   * @param at Start of the new window, ms since the epoch.
   */
  flush(at: number = this.#now()): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [network, fold] of this.#folds) {
      this.#record({
        at: fold.last,
        severity: SUMMARY_SEVERITY,
        kind: SECURITY_EVENT_KINDS.loginSuppressed,
        message: `Suppressed ${fold.count} login events from ${network} between ${
          new Date(fold.first).toISOString()
        } and ${
          new Date(fold.last).toISOString()
        }: over ${LOGIN_EVENTS_PER_ADDRESS} per address, ${LOGIN_EVENTS_PER_NETWORK} per network or ${LOGIN_EVENTS_PER_WINDOW} in total a minute`,
      });
    }
    this.#folds.clear();
    this.#counts.clear();
    this.#total = 0;
    this.#windowStart = at;
  }

  /** Writes the pending summaries; later events are stored unlimited (shutdown). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }

  /** Spends one event of the address's, network's and total budgets, if all have one. */
  #take(ip: string): boolean {
    const address = `a:${addressKey(ip)}`;
    const network = `n:${networkKey(ip)}`;
    const fromAddress = this.#counts.get(address);
    const fromNetwork = this.#counts.get(network);
    if (
      this.#total >= LOGIN_EVENTS_PER_WINDOW ||
      (fromAddress ?? 0) >= LOGIN_EVENTS_PER_ADDRESS ||
      (fromNetwork ?? 0) >= LOGIN_EVENTS_PER_NETWORK ||
      ((fromAddress === undefined || fromNetwork === undefined) &&
        this.#counts.size >= MAX_COUNTED_KEYS - 1)
    ) {
      return false;
    }
    this.#counts.set(address, (fromAddress ?? 0) + 1);
    this.#counts.set(network, (fromNetwork ?? 0) + 1);
    this.#total++;
    return true;
  }

  #fold(network: string, at: number): void {
    this.suppressed++;
    const key = this.#folds.has(network) || this.#folds.size < MAX_FOLDED_NETWORKS
      ? network
      : ELSEWHERE;
    const fold = this.#folds.get(key);
    if (fold) {
      fold.count++;
      fold.last = at;
    } else {
      this.#folds.set(key, { count: 1, first: at, last: at });
    }
    // The summary is written when the window ends, even if nothing else comes.
    this.#timer ??= setTimeout(
      () => this.flush(),
      Math.max(0, this.#windowStart + LOGIN_EVENT_WINDOW_MS - at),
    );
  }
}

/**
 * The budget of agent connections that have not logged in yet. Anyone who
 * can reach the port can open one, so they get less than logged-in agents:
 * a short deadline to log in, very few bad lines, a count of their own in
 * total and per address, and they are the first to go when the listener's
 * slots run out (the oldest first, but never one whose LOGIN is being
 * verified), so logged-in agents keep working through a flood. While the
 * budget is spent and none may go yet, the listener stops accepting: the next
 * connection waits in the kernel's backlog instead of being refused.
 *
 * @module
 */

import { addressKey } from "../net/mod.ts";
import type { FailReason } from "../../protocol/mod.ts";

/** Seconds a connection has to log in after it was accepted, unless configured. */
export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 10;
/**
 * Bad lines (unparsable, not allowed before LOGIN, refused LOGINs) a
 * connection may send before it has logged in; the last one closes it.
 */
export const MAX_BAD_LINES_BEFORE_LOGIN = 3;
/**
 * Connections not logged in yet that the listener holds at once, unless
 * configured. One more closes the oldest of them that is not verifying a
 * LOGIN (or is refused when all are).
 */
export const DEFAULT_MAX_PRE_LOGIN_CONNECTIONS = 1024;
/**
 * How long a connection not logged in yet is safe from eviction, in ms: when
 * a restarted collector's fleet comes back at once, a newcomer is refused (and
 * retries with backoff) instead of closing an agent whose LOGIN has not been
 * read yet, while a client that holds a slot without logging in still goes.
 */
export const PRE_LOGIN_EVICTION_GRACE_MS = 1_000;
/**
 * Longest wait of the listener for room in a spent budget before it looks
 * again: a LOGIN whose verification failed frees no slot but makes its
 * connection one that may go.
 */
export const PRE_LOGIN_RECHECK_MS = 100;
/**
 * Connections not logged in yet from one address (IPv6: one /64); one more is
 * refused with `ACK FAIL Too many connections from this address`. Applies
 * only while connections per address are limited at all
 * (`--max-connections-per-ip`), and never above that limit.
 */
export const MAX_PRE_LOGIN_CONNECTIONS_PER_ADDRESS = 32;

/** What the budget needs of a connection. */
export interface PreLoginConnection {
  /** Client IP address, without port. */
  readonly ip: string;
  /** Whether a LOGIN of this connection is being verified now. */
  readonly verifyingLogin: boolean;
  /** Sends `ACK FAIL <reason>` without waiting and closes at once. */
  abort(reason: FailReason): void;
}

/**
 * The connections that have not logged in yet, oldest first.
 *
 * @example
 * ```ts
 * const budget = new PreLoginBudget<Connection>(256, 16);
 * if (budget.fromAddressFull(ip)) refuse();
 * budget.add(connection); // on accept
 * budget.remove(connection); // on login and on close
 * ```
 */
export class PreLoginBudget<C extends PreLoginConnection> {
  readonly #max: number;
  readonly #maxPerAddress: number;
  /** Each connection and when it was counted (ms since the epoch), oldest first. */
  readonly #waiting = new Map<C, number>();
  readonly #perAddress = new Map<string, number>();
  /** Connections closed by {@linkcode evictOldest} since the start, for `/metrics`. */
  evicted = 0;
  /** Settled by the next {@linkcode remove} that frees a slot. */
  #freed: PromiseWithResolvers<void> | null = null;

  /**
   * @param max Most connections not logged in; `Infinity` for no limit.
   * @param maxPerAddress Most of them per address; `Infinity` for no limit.
   */
  constructor(max: number, maxPerAddress: number) {
    this.#max = max;
    this.#maxPerAddress = maxPerAddress;
  }

  /** Connections not logged in yet. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Whether the budget is spent (a new connection needs an eviction first). */
  get full(): boolean {
    return this.#waiting.size >= this.#max;
  }

  /**
   * Whether the address already holds its most connections not logged in.
   *
   * @param ip Client IP address.
   * @returns True when one more must be refused.
   */
  fromAddressFull(ip: string): boolean {
    return (this.#perAddress.get(addressKey(ip)) ?? 0) >= this.#maxPerAddress;
  }

  /**
   * Counts a newly accepted connection.
   *
   * @param connection The connection.
   * @param now Ms since the epoch.
   */
  add(connection: C, now: number = Date.now()): void {
    if (this.#waiting.has(connection)) return;
    this.#waiting.set(connection, now);
    const key = addressKey(connection.ip);
    this.#perAddress.set(key, (this.#perAddress.get(key) ?? 0) + 1);
  }

  /**
   * Stops counting a connection: it logged in or closed. Idempotent.
   *
   * @param connection The connection.
   */
  remove(connection: C): void {
    if (!this.#waiting.delete(connection)) return;
    const key = addressKey(connection.ip);
    const left = (this.#perAddress.get(key) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(key, left);
    else this.#perAddress.delete(key);
    const freed = this.#freed;
    this.#freed = null;
    freed?.resolve();
  }

  /**
   * How long a new connection must wait for room: 0 while the budget is not
   * spent or its oldest connection that may go is past its grace, the rest of
   * that grace otherwise, and Infinity while every one is verifying a LOGIN.
   *
   * @param now Ms since the epoch.
   * @returns Milliseconds.
   */
  waitMs(now: number = Date.now()): number {
    if (!this.full) return 0;
    const oldest = this.#oldestThatMayGo();
    return oldest === null
      ? Infinity
      : Math.max(0, oldest.since + PRE_LOGIN_EVICTION_GRACE_MS - now);
  }

  /**
   * Resolves when a connection stops counting (it logged in or closed).
   *
   * @returns A promise that never rejects.
   */
  freed(): Promise<void> {
    this.#freed ??= Promise.withResolvers();
    return this.#freed.promise;
  }

  /**
   * Closes the oldest connection not logged in whose LOGIN is not being
   * verified, to make room for a new one, unless it is younger than
   * {@linkcode PRE_LOGIN_EVICTION_GRACE_MS}.
   *
   * @param reason The last line it gets.
   * @param now Ms since the epoch.
   * @returns The closed connection, or null when none could go.
   */
  evictOldest(reason: FailReason, now: number = Date.now()): C | null {
    const oldest = this.#oldestThatMayGo();
    // The oldest that could go is still in its grace: so are all the others.
    if (oldest === null || now - oldest.since < PRE_LOGIN_EVICTION_GRACE_MS) return null;
    const { connection } = oldest;
    this.remove(connection);
    this.evicted++;
    connection.abort(reason);
    return connection;
  }

  /** The oldest connection whose LOGIN is not being verified, and when it was counted. */
  #oldestThatMayGo(): { connection: C; since: number } | null {
    for (const [connection, since] of this.#waiting) {
      if (!connection.verifyingLogin) return { connection, since };
    }
    return null;
  }
}

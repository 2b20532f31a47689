/**
 * The budget of agent connections that have not logged in yet. Anyone who
 * can reach the port can open one, so they get less than logged-in agents:
 * a short deadline to log in, very few bad lines, a count of their own in
 * total and per address, and they are the first to go when the listener's
 * slots run out (the oldest first, but never one whose LOGIN is being
 * verified), so logged-in agents keep working through a flood.
 *
 * @module
 */

import { addressKey } from "../address_key.ts";
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
export const DEFAULT_MAX_PRE_LOGIN_CONNECTIONS = 256;
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
  readonly #waiting = new Set<C>();
  readonly #perAddress = new Map<string, number>();
  /** Connections closed by {@linkcode evictOldest} since the start, for `/metrics`. */
  evicted = 0;

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
   */
  add(connection: C): void {
    if (this.#waiting.has(connection)) return;
    this.#waiting.add(connection);
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
  }

  /**
   * Closes the oldest connection not logged in whose LOGIN is not being
   * verified, to make room for a new one.
   *
   * @param reason The last line it gets.
   * @returns The closed connection, or null when none could go.
   */
  evictOldest(reason: FailReason): C | null {
    for (const connection of this.#waiting) {
      if (connection.verifyingLogin) continue;
      this.remove(connection);
      this.evicted++;
      connection.abort(reason);
      return connection;
    }
    return null;
  }
}

/**
 * Closes open agent connections whose credential no longer holds: a revoked
 * or deleted agent token, a removed user, or a user whose role or password
 * changed. Tokens and users are changed by `nms-server token|user` in another
 * process (or by another server of a PostgreSQL store), so the server checks
 * the credentials of its logged-in connections every few seconds.
 *
 * @module
 */

import { FAIL } from "../../protocol/mod.ts";
import type { Listener } from "./listener.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/mod.ts";
import { credentialStamp } from "../auth/mod.ts";

/** How often the credentials of open connections are checked, in ms. */
export const CREDENTIAL_CHECK_INTERVAL_MS = 5_000;

/** Options of {@linkcode watchCredentials}. */
export interface CredentialWatchOptions {
  /**
   * Time between two checks, in ms.
   * @default {CREDENTIAL_CHECK_INTERVAL_MS}
   */
  readonly intervalMs?: number;
  /** Where failed checks are reported. */
  readonly log: Logger;
}

/** A running watch. */
export interface CredentialWatch {
  /** Runs one check now (tests; also what the timer runs). */
  check(): Promise<number>;
  /** Stops the timer and waits for a check in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts checking the credentials of the listener's logged-in connections.
 *
 * @param listener The agent listener.
 * @param store A store to read tokens and users from.
 * @param options Interval and logger.
 * @returns The watch; stop it before closing the store.
 * @example
 * ```ts
 * const watch = watchCredentials(listener, store, { log });
 * await watch.stop();
 * ```
 */
export function watchCredentials(
  listener: Listener,
  store: Store,
  options: CredentialWatchOptions,
): CredentialWatch {
  let running: Promise<number> | null = null;
  let stopped = false;

  async function checkOnce(): Promise<number> {
    const connections = listener.loggedIn();
    let closed = 0;
    const tokenIds = new Set<string>();
    const users = new Map<string, string | null>();
    for (const c of connections) {
      if (c.tokenId !== null) tokenIds.add(c.tokenId);
      else if (c.username !== null) users.set(c.username, null);
    }
    for (const id of tokenIds) {
      const token = await store.security.findToken(id);
      if (!token || token.revokedAt !== null) {
        closed += listener.closeWhere((c) => c.tokenId === id, FAIL.credentialRevoked);
      }
    }
    for (const name of users.keys()) {
      const user = await store.findUser(name);
      const stamp = user ? credentialStamp(user.passwordHash) : null;
      closed += listener.closeWhere(
        (c) =>
          c.tokenId === null && c.username === name &&
          (!user || user.role !== c.role || (c.credential !== null && c.credential !== stamp)),
        FAIL.credentialRevoked,
      );
    }
    return closed;
  }

  const check = (): Promise<number> => {
    running ??= checkOnce().catch((error) => {
      options.log.warn("Credential check failed", { error: (error as Error).message });
      return 0;
    }).finally(() => running = null);
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void check();
  }, options.intervalMs ?? CREDENTIAL_CHECK_INTERVAL_MS);
  return {
    check,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

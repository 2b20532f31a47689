/**
 * Ends console sessions and live streams whose user was removed, or whose
 * password or role changed, within a few seconds, whoever made the change:
 * this server, `nms-server user …` in another process, or another server of
 * a PostgreSQL store. Requests re-read their user anyway; a live stream makes
 * no requests, so it is checked here. One read of the users table every
 * {@linkcode CREDENTIAL_RECHECK_MS} while anyone is signed in; the password
 * hash, which changes with every password change, serves as the credential's
 * version.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { Store } from "../store/store.ts";
import type { LiveHub } from "./live_stream.ts";
import type { SessionStore } from "./session.ts";

/** How often the credentials of sessions and live streams are checked, in ms. */
export const CREDENTIAL_RECHECK_MS = 2_000;

/** What the check reads and ends. */
export interface CredentialRecheckParts {
  readonly store: Store;
  readonly sessions: SessionStore;
  readonly live: LiveHub;
  readonly log: Logger;
}

/** A running check. */
export interface CredentialRecheck {
  /** Runs one check now; resolves with how many sessions and streams ended. */
  check(): Promise<number>;
  /** Stops the timer and waits for a check in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts checking every {@linkcode CREDENTIAL_RECHECK_MS}.
 *
 * @param parts The store to read users from, and the sessions and streams.
 * @param intervalMs Time between two checks.
 * @returns The running check; stop it before closing the store.
 * @example
 * ```ts
 * const recheck = startCredentialRecheck({ store, sessions, live, log });
 * await recheck.stop();
 * ```
 */
export function startCredentialRecheck(
  parts: CredentialRecheckParts,
  intervalMs: number = CREDENTIAL_RECHECK_MS,
): CredentialRecheck {
  let running: Promise<number> | null = null;
  const checkOnce = async (): Promise<number> => {
    if (parts.sessions.size === 0 && parts.live.clients === 0) return 0;
    const users = await parts.store.listUsers();
    return parts.sessions.revalidate(users) + parts.live.revalidate(users);
  };
  const check = (): Promise<number> => {
    running ??= checkOnce().catch((error) => {
      parts.log.warn("Credential check of console sessions failed", {
        error: (error as Error).message,
      });
      return 0;
    }).finally(() => running = null);
    return running;
  };
  const timer = setInterval(() => void check(), intervalMs);
  return {
    check,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

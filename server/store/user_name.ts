/**
 * The one rule for user names, enforced by every {@linkcode Store} when a
 * user is created, whichever path creates it (CLI, console API, import). A
 * name cannot start with `@`: `LOGIN @token <token>` is the token variant of
 * LOGIN, and no account may pose as it.
 *
 * @module
 */

import { StoreError } from "./store.ts";

/** Longest user name, in characters. */
export const MAX_USER_NAME_CHARS = 64;

/**
 * Valid user names: 1 to {@linkcode MAX_USER_NAME_CHARS} letters, digits and
 * `_ . @ -`, not starting with `@`.
 */
export const USER_NAME_PATTERN: RegExp = /^[A-Za-z0-9_.-][A-Za-z0-9_.@-]{0,63}$/;

/** The rule in words, for error messages. */
export const USER_NAME_RULE = "1-64 letters, digits, _ . @ - (not starting with @)";

/**
 * Whether a name follows the rule.
 *
 * @param name Any text, e.g. a claimed user name from a client.
 * @returns True when an account could have this name.
 * @example
 * ```ts
 * isValidUserName("web-01"); // true
 * isValidUserName("@token"); // false
 * ```
 */
export function isValidUserName(name: string): boolean {
  return name.length <= MAX_USER_NAME_CHARS && USER_NAME_PATTERN.test(name);
}

/**
 * Refuses a name that does not follow the rule.
 *
 * @param name The name of a user about to be created.
 * @throws {StoreError} `invalid`, naming the rule, when it does not follow it.
 * @example
 * ```ts
 * checkUserName("alice"); // ok
 * ```
 */
export function checkUserName(name: string): void {
  if (!isValidUserName(name)) {
    throw new StoreError(
      `Invalid user name ${
        JSON.stringify(name.slice(0, MAX_USER_NAME_CHARS))
      }: use ${USER_NAME_RULE}`,
      "invalid",
    );
  }
}

/**
 * The version of nms-server, as `--version` prints it.
 *
 * @module
 */

import { BUILD_COMMIT, BUILD_VERSION } from "../build_info.ts";

/** Version of nms-server. */
export const SERVER_VERSION: string = BUILD_VERSION;

/** Commit nms-server was built from, or `dev`. */
export const SERVER_COMMIT: string = BUILD_COMMIT;

/**
 * The line `nms-server --version` prints.
 *
 * @returns `nms-server <version> (commit <hash>)`.
 * @example
 * ```ts
 * versionLine(); // "nms-server 0.1.0 (commit 1a2b3c4)"
 * ```
 */
export function versionLine(): string {
  return `nms-server ${SERVER_VERSION} (commit ${SERVER_COMMIT})`;
}

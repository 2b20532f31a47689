/**
 * What this build of nms-agent is. `tools/build_info.ts` rewrites this file
 * before `deno task compile` with the version from deno.json and the commit
 * being built; the committed copy says `dev`, for runs from source.
 *
 * @module
 */

/** Version of NMS (deno.json `version`). */
export const BUILD_VERSION = "0.1.0";

/** Short commit hash of the build, or `dev` when run from source. */
export const BUILD_COMMIT = "dev";

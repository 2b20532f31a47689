/**
 * Code that both binaries use and that is not the wire protocol: the loader
 * of their configuration files. Like `protocol/`, it depends on neither
 * `server/` nor `agent/` (`tests/layering_test.ts` checks it).
 *
 * @example
 * ```ts
 * import { configKeys, readConfigFile } from "./mod.ts";
 * ```
 *
 * @module
 */

export * from "./config_file.ts";

/**
 * Code that both binaries use and that is not the wire protocol: the loader
 * of their configuration files, the logger, the Prometheus text writer, the
 * error-message helper, the progress display of long work, byte sizes and
 * pools of reusable buffers. Like
 * `protocol/`, it depends on neither `server/` nor `agent/`
 * (`tests/layering_test.ts` checks it).
 *
 * The agent imports the files it needs on its `run` path directly, not this
 * module: `config_file.ts` loads commander, and an npm module on that path
 * costs the idle agent its Node compatibility layer
 * (docs/decisions/0012-agent-memory.md).
 *
 * @example
 * ```ts
 * import { configKeys, errorMessage, readConfigFile } from "./mod.ts";
 * ```
 *
 * @module
 */

export * from "./config_file.ts";
export * from "./error_message.ts";
export * from "./log.ts";
export * from "./buffer_pool.ts";
export * from "./progress.ts";
export * from "./prometheus_text.ts";

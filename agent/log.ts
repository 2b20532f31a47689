/**
 * The agent's logger and its writers to stderr and stdout: the shared ones of
 * common/log.ts, which say how a line looks and how values are quoted.
 *
 * @module
 */

export {
  createLogger,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFields,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  SILENT_LOGGER,
  writeStderrLine,
  writeStderrRaw,
  writeStdoutLine,
  writeStdoutRaw,
} from "../common/log.ts";

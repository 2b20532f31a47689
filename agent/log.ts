/**
 * The agent's only writer to stderr and stdout. Every other module logs
 * through a {@linkcode Logger}, so output format, levels and tests' silence
 * are decided in one place.
 *
 * Lines look like `2025-12-11T16:00:00.000Z INFO state changed state=connected
 * server=127.0.0.1:8080`: a timestamp, a level, a message and `key=value`
 * fields (values with spaces or quotes are JSON-quoted).
 *
 * @module
 */

/** Severity of a log line, least severe first; `silent` writes nothing. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** Every {@linkcode LogLevel}, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** Extra `key=value` pairs appended to a log line. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Writes log lines at or above its level. */
export interface Logger {
  /** Writes a line useful only when diagnosing the agent. */
  debug(message: string, fields?: LogFields): void;
  /** Writes a line about normal operation, such as a state change. */
  info(message: string, fields?: LogFields): void;
  /** Writes a line about something that went wrong and was handled. */
  warn(message: string, fields?: LogFields): void;
  /** Writes a line about something that stops the agent or loses data. */
  error(message: string, fields?: LogFields): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * Least severe level that is written.
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * Receives each formatted line without its newline.
   * @default {writeStderrLine}
   */
  write?: (line: string) => void;
  /**
   * Returns the current time in milliseconds since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * `text` for people, `json` (one object per line: time, level, message and
   * the fields) for log pipelines (issue 10, `--log-format`).
   * @default {"text"}
   */
  format?: LogFormat;
}

/** Formats of log lines. */
export type LogFormat = "text" | "json";

/** Every {@linkcode LogFormat}. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

const encoder = new TextEncoder();
const SAFE_VALUE = /^[^\s"=]*$/;

/**
 * Writes one line to stderr. Failures (a closed stderr) are ignored: logging
 * must never stop the agent.
 *
 * @param line The text, without a trailing newline.
 * @returns Nothing.
 * @example
 * ```ts
 * writeStderrLine("nms-agent: error: missing --server");
 * ```
 */
export function writeStderrLine(line: string): void {
  writeAll(Deno.stderr, line);
}

/**
 * Writes one line to stdout, e.g. the output of `nms-agent version`.
 *
 * @param line The text, without a trailing newline.
 * @returns Nothing.
 * @example
 * ```ts
 * writeStdoutLine("nms-agent 0.1.0");
 * ```
 */
export function writeStdoutLine(line: string): void {
  writeAll(Deno.stdout, line);
}

/**
 * Writes text to stdout as is (commander's help output already ends in a newline).
 *
 * @param text The text to write.
 * @returns Nothing.
 * @example
 * ```ts
 * writeStdoutRaw("Usage: nms-agent [command]\n");
 * ```
 */
export function writeStdoutRaw(text: string): void {
  writeBytes(Deno.stdout, encoder.encode(text));
}

/**
 * Writes text to stderr as is (commander's error output already ends in a newline).
 *
 * @param text The text to write.
 * @returns Nothing.
 * @example
 * ```ts
 * writeStderrRaw("error: unknown option '--pasword'\n");
 * ```
 */
export function writeStderrRaw(text: string): void {
  writeBytes(Deno.stderr, encoder.encode(text));
}

function writeAll(target: { writeSync(p: Uint8Array): number }, line: string): void {
  writeBytes(target, encoder.encode(line + "\n"));
}

function writeBytes(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  try {
    let written = 0;
    while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
  } catch {
    // A closed or broken stderr/stdout must not take the agent down.
  }
}

function formatFields(fields: LogFields | undefined): string {
  if (fields === undefined) return "";
  let text = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const raw = String(value);
    text += ` ${key}=${SAFE_VALUE.test(raw) && raw.length > 0 ? raw : JSON.stringify(raw)}`;
  }
  return text;
}

/**
 * Creates a logger that formats lines and writes those at or above a level.
 *
 * @param options Level, destination and clock.
 * @returns The logger.
 * @example
 * ```ts
 * const log = createLogger({ level: "info" });
 * log.info("state changed", { state: "connected", server: "127.0.0.1:8080" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  if (threshold < 0) throw new RangeError(`Cannot create a logger: unknown level ${options.level}`);
  const write = options.write ?? writeStderrLine;
  const now = options.now ?? Date.now;
  const json = options.format === "json";
  const emit = (level: LogLevel, label: string) => (message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const time = new Date(now()).toISOString();
    // JSON.stringify escapes control characters: untrusted text cannot forge a line.
    if (json) write(JSON.stringify({ time, level, message, ...fields }));
    else write(`${time} ${label} ${message}${formatFields(fields)}`);
  };
  return {
    debug: emit("debug", "DEBUG"),
    info: emit("info", "INFO"),
    warn: emit("warn", "WARN"),
    error: emit("error", "ERROR"),
  };
}

/** A logger that writes nothing, for tests and embedding. */
export const SILENT_LOGGER: Logger = createLogger({ level: "silent" });

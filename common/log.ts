/**
 * The one logger of both binaries, and their only writer to stderr and
 * stdout. Every other module logs through a {@linkcode Logger}, so the line
 * format, the levels and the silence of tests are decided here.
 *
 * A text line is `2025-12-11T16:00:00.000Z INFO state changed state=connected
 * server=127.0.0.1:8080`: a timestamp, a level, the message and `key=value`
 * fields. A field value is written as is when it is non-empty and holds no
 * white space, `"`, `=` or control character; anything else is written as a
 * JSON string literal, so text from a file or a client can never forge a
 * second line or a field. Control characters in the message are escaped too.
 * With `format: "json"` each line is one JSON object instead.
 *
 * @module
 */

/** Severity of a log line, least severe first; `silent` writes nothing. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** Every {@linkcode LogLevel}, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** Formats of log lines: `text` for people, `json` for log pipelines. */
export type LogFormat = "text" | "json";

/** Every {@linkcode LogFormat}. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** Extra `key=value` pairs of a log line; undefined values are left out. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes log lines at or above its level. */
export interface Logger {
  /** Writes a line useful only when diagnosing the program. */
  debug(message: string, fields?: LogFields): void;
  /** Writes a line about normal operation, such as a state change. */
  info(message: string, fields?: LogFields): void;
  /** Writes a line about something that went wrong and was handled. */
  warn(message: string, fields?: LogFields): void;
  /** Writes a line about something that stops the program or loses data. */
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
   * `text` for people, `json` (one object per line: time, level, message and
   * the fields) for log pipelines.
   * @default {"text"}
   */
  format?: LogFormat;
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
}

const encoder = new TextEncoder();

/** A field value that needs no quoting: no white space, `"`, `=` or control character. */
const BARE_VALUE = /^[^\s"=\p{Cc}]+$/u;

/** Characters JSON.stringify leaves as they are but a terminal or a line reader may not. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/** Control characters (and line separators) in a message. */
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;

/** The escapes JSON uses for the common control characters. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Formats one field value of a text log line: as is when it is safe to, else
 * as a JSON string literal with every control character escaped.
 *
 * @param value The field's value; objects and arrays are written as JSON.
 * @returns The text after `key=`.
 * @example
 * ```ts
 * formatLogValue("127.0.0.1:8080"); // 127.0.0.1:8080
 * formatLogValue("evil\nFAKE LINE"); // "evil\nFAKE LINE"
 * formatLogValue(""); // ""
 * ```
 */
export function formatLogValue(value: unknown): string {
  let text: string;
  if (typeof value === "object" && value !== null) {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  } else {
    text = String(value);
  }
  if (BARE_VALUE.test(text)) return text;
  return JSON.stringify(text).replace(UNSAFE_IN_JSON, unicodeEscape);
}

/**
 * Escapes the control characters of a message, so one entry stays one line.
 *
 * @param message The message.
 * @returns It with `\n`, `\r`, `\t` and `\uXXXX` escapes.
 */
function escapeMessage(message: string): string {
  return message.replace(CONTROL, (char) => SHORT_ESCAPES[char] ?? unicodeEscape(char));
}

function formatFields(fields: LogFields | undefined): string {
  if (fields === undefined) return "";
  let text = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    text += ` ${key}=${formatLogValue(value)}`;
  }
  return text;
}

/**
 * Creates a logger that formats lines and writes those at or above a level.
 *
 * @param options Level, format, destination and clock.
 * @returns The logger.
 * @throws {RangeError} For an unknown level.
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
    else write(`${time} ${label} ${escapeMessage(message)}${formatFields(fields)}`);
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

/**
 * Writes one line to stderr. Failures (a closed stderr) are ignored: logging
 * must never stop the program.
 *
 * @param line The text, without a trailing newline.
 * @returns Nothing.
 * @example
 * ```ts
 * writeStderrLine("nms-agent: missing --server");
 * ```
 */
export function writeStderrLine(line: string): void {
  writeBytes(Deno.stderr, encoder.encode(line + "\n"));
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
  writeBytes(Deno.stdout, encoder.encode(line + "\n"));
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

function writeBytes(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  try {
    let written = 0;
    while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
  } catch {
    // A closed or broken stderr/stdout must not take the program down.
  }
}

/**
 * The server's diagnostics on stderr: the one module that writes there.
 * Lines are `<ISO time> <level> <message>`, or one JSON object per line with
 * `--log-format json`. Untrusted text must be passed through {@linkcode quote}.
 *
 * @module
 */

/** Severity of a diagnostic line, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug";

const LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * Least severe level written.
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * `text` for people, `json` for log pipelines.
   * @default {"text"}
   */
  format?: "text" | "json";
  /**
   * Where lines go.
   * @default {writes to stderr}
   */
  write?: (line: string) => void;
}

/** Writes diagnostics at one of four levels. */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/**
 * Creates a logger.
 *
 * @param options Level, format and sink.
 * @returns The logger.
 * @example
 * ```ts
 * const log = createLogger({ level: "warn" });
 * log.warn("Bad line from client", { address: "10.0.0.5:40000" });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? writeStderr;
  const json = options.format === "json";
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) > threshold) return;
    const time = new Date().toISOString();
    if (json) {
      write(JSON.stringify({ time, level, message, ...fields }));
      return;
    }
    const extra = fields
      ? Object.entries(fields).map(([k, v]) =>
        ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      )
        .join("")
      : "";
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra}`);
  };
  return {
    error: (m, f) => emit("error", m, f),
    warn: (m, f) => emit("warn", m, f),
    info: (m, f) => emit("info", m, f),
    debug: (m, f) => emit("debug", m, f),
  };
}

/** Longest excerpt of untrusted input that {@linkcode quote} keeps. */
const QUOTE_MAX_CHARS = 80;

/**
 * Makes untrusted text safe for one log line: escaped control characters,
 * quoted, cut to 80 characters.
 *
 * @param text Text from a client.
 * @returns A JSON string literal of its first 80 characters.
 * @example
 * ```ts
 * quote("evil\nFAKE LOG LINE"); // "\"evil\\nFAKE LOG LINE\""
 * ```
 */
export function quote(text: string): string {
  return JSON.stringify(
    text.length > QUOTE_MAX_CHARS ? text.slice(0, QUOTE_MAX_CHARS) + "…" : text,
  );
}

/** A logger that discards everything, for tests and embedding. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};

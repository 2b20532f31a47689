/**
 * The result type shared by every log-line parser in this folder.
 *
 * @module
 */

/**
 * Which parser matched a line:
 *
 * - `rfc5424`: IETF syslog, `<34>1 2026-11-23T19:43:33Z host app 812 ID47 - msg`.
 * - `rfc3164`: BSD syslog as in /var/log/syslog and auth.log, with or without
 *   `<PRI>`, plus the deviations devices send (missing host, ISO time, Cisco).
 * - `rsyslog_iso`: rsyslog's high-precision file format (RSYSLOG_FileFormat),
 *   `2026-11-23T19:43:33.123456+00:00 host tag: msg`.
 * - `paper_iso`: the paper's `<ISO time> <message>` format.
 * - `raw`: none of the above; the whole line is the message.
 */
export type LogFormat = "rfc5424" | "rfc3164" | "rsyslog_iso" | "paper_iso" | "raw";

/** Format-specific fields kept for the syslog receiver to store. */
export interface ParsedLineExtra {
  /** RFC 5424 MSGID, or the Cisco mnemonic (`%LINK-3-UPDOWN`) of an RFC 3164 line. */
  msgid?: string;
  /** RFC 5424 STRUCTURED-DATA exactly as received (`[id k="v"]...`), escapes kept. */
  structuredData?: string;
}

/** Fields parsed from one log line. */
export interface ParsedLine {
  /** Event time, ms since the epoch, or null when the line has none. */
  ts: number | null;
  /** Host that produced the line, or null when the line names none. */
  host: string | null;
  /** Program (tag or app-name), e.g. `"sshd"`, `"CRON"`, `"kernel"`, `"systemd"`. */
  program: string | null;
  /** Process id, or null when the line has none or it is not a number. */
  pid: number | null;
  /** 0 emerg .. 7 debug; from PRI when present, else inferred from the message, else null. */
  severity: number | null;
  /** 0..23 from PRI, else null. */
  facility: number | null;
  /** The free text after `program[pid]: ` (the whole line for `raw`). */
  message: string;
  /**
   * Where the message starts in the line: a message is almost always the end
   * of its line, `line.slice(messageStart)`, so stores keep it as an offset.
   * -1 when it is not (`parseLogLine` trimmed trailing padding off the line).
   */
  messageStart: number;
  /** Which parser matched. */
  format: LogFormat;
  /** Present only when the line carries an RFC 5424 MSGID/STRUCTURED-DATA or a Cisco mnemonic. */
  extra?: ParsedLineExtra;
}

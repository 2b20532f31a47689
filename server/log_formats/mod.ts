/**
 * Log-line parsers of the NMS server: turn each received line (from an
 * agent's `BATCH_EVENT`/`EVENT`, later from syslog senders) into time, host,
 * program, pid, severity, facility and message.
 *
 * One format per file: `rfc5424.ts`, `rfc3164.ts`, `rsyslog_iso.ts`,
 * `paper_iso.ts`; `protocol/severity.ts` infers a severity from keywords when a line
 * has no PRI. {@linkcode parseLogLine} tries them in that order.
 *
 * @example
 * ```ts
 * import { parseLogLine } from "./mod.ts";
 *
 * const p = parseLogLine("2025-12-11T16:00:00 sshd: session opened", Date.now());
 * p.format; // "paper_iso"
 * p.program; // "sshd"
 * ```
 *
 * @module
 */

export type { LogFormat, ParsedLine, ParsedLineExtra } from "./parsed_line.ts";
export { parseLogLine } from "./parse_log_line.ts";
export { type DecodedLogText, decodeLogBytes, encodeLogText } from "./log_bytes.ts";
export { parseRfc5424 } from "./rfc5424.ts";
export { parseRfc3164 } from "./rfc3164.ts";
export { parseRsyslogIso } from "./rsyslog_iso.ts";
export { parsePaperIso } from "./paper_iso.ts";
export {
  DEFAULT_INFERRED_SEVERITY,
  inferSeverity,
  SEVERITY,
  SEVERITY_RULES,
  type SeverityRule,
} from "../../protocol/severity.ts";
export {
  formatStructuredData,
  MAX_STRUCTURED_PARAMS,
  readStructuredParams,
} from "./structured_params.ts";

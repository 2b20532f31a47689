/**
 * Terminal output of the CLI. Log content is attacker-controlled, so control
 * characters (terminal escape sequences included) are shown escaped.
 *
 * @module
 */

import { SEVERITY_KEYWORDS } from "../../protocol/mod.ts";
import { EVENT_FLAGS, type EventRecord } from "../store/mod.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Escapes control characters as `\xNN`, so text cannot drive the terminal.
 *
 * @param text Untrusted text.
 * @returns Printable text.
 * @example
 * ```ts
 * printable("a\x1b[31mred"); // "a\\x1b[31mred"
 * ```
 */
export function printable(text: string): string {
  return text.replace(CONTROL, hex);
}

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * One event as one terminal line: time, host, severity, program[pid], message.
 *
 * @param event A stored event.
 * @returns The line, without a newline.
 * @example
 * ```ts
 * formatEvent(event); // "2026-11-23T19:43:33.000Z web-01 info sshd[812]: Accepted ..."
 * ```
 */
export function formatEvent(event: EventRecord): string {
  const severity = event.severity === null ? "-" : SEVERITY_KEYWORDS[event.severity] ?? "-";
  const program = event.program === null
    ? ""
    : `${event.program}${event.pid === null ? "" : `[${event.pid}]`}: `;
  // Gap events (docs/DELIVERY.md): lines an agent could not deliver.
  const gap = event.flags & EVENT_FLAGS.gap ? "[GAP] " : "";
  return printable(
    `${new Date(event.ts).toISOString()} ${
      event.host ?? "-"
    } ${severity} ${gap}${program}${event.message}`,
  );
}

/**
 * Parses `30s`, `15m`, `2h`, `7d` or an ISO date into ms since the epoch.
 *
 * @param text The value of `--since`.
 * @param now The current time.
 * @returns The instant, or undefined when the text is neither form.
 * @example
 * ```ts
 * parseSince("1h", Date.now()); // an hour ago
 * ```
 */
export function parseSince(text: string, now: number): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (match) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[match[2] as "s" | "m" | "h" | "d"];
    return now - Number(match[1]) * unit;
  }
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Formats rows as aligned columns.
 *
 * @param header Column titles.
 * @param rows Cells, already strings.
 * @returns The table, lines joined with `\n`.
 * @example
 * ```ts
 * table(["NAME", "ROLE"], [["admin", "admin"]]);
 * ```
 */
export function table(header: string[], rows: string[][]): string {
  // Escape first, then measure: an escaped control character takes four
  // columns. A tab or a line feed would break the columns too.
  const cells = [header, ...rows].map((r) => r.map((c) => printable(c).replace(/[\t\n]/g, hex)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return cells.map(line).join("\n");
}

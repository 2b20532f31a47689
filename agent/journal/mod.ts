/**
 * The systemd journal as a line source: journalctl's JSON entries turned into
 * syslog-style lines, each with a stream and position that make a resend
 * exactly-once.
 *
 * @example
 * ```ts
 * import { JournalSource } from "./mod.ts";
 * const journal = new JournalSource({ fallbackHostname: "web-01" });
 * await journal.start();
 * ```
 *
 * @module
 */

export { JournalSource, type JournalSourceOptions, type JournalStats } from "./journal_source.ts";
export { journalEntryToLine, parseJournalCursor } from "./journal_entry.ts";

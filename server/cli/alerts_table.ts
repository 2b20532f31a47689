/**
 * `nms-server alerts`: alerts as an aligned table for the terminal.
 *
 * @module
 */

import type { AlertRecord } from "../store/mod.ts";
import { table } from "./format.ts";

/**
 * Formats alerts, one per line: when last seen, level, rule, count,
 * description and fields. Field values come from log lines, so `table()`
 * escapes their control characters.
 *
 * @param alerts Alerts, most recent first.
 * @returns The table, lines joined with `\n`.
 * @example
 * ```ts
 * alertsTable(await store.listAlerts({ limit: 50 }));
 * ```
 */
export function alertsTable(alerts: readonly AlertRecord[]): string {
  return table(
    ["LAST SEEN", "LEVEL", "RULE", "COUNT", "DESCRIPTION", "FIELDS"],
    alerts.map((a) => [
      new Date(a.lastSeen).toISOString(),
      String(a.level),
      String(a.ruleId),
      String(a.count),
      a.description,
      Object.entries(a.fields).map(([k, v]) => `${k}=${v}`).join(" "),
    ]),
  );
}

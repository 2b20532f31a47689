/**
 * What both stores share for the nodes' page: checking an
 * {@linkcode AgentQuery}, the columns behind each order, and the row of a
 * node with its status.
 *
 * @module
 */

import { nullableNumber, type Row, toAgent } from "./_rows.ts";
import {
  AGENT_SORTS,
  AGENT_STATUSES,
  type AgentQuery,
  type AgentRow,
  type AgentSort,
  type AgentStatus,
  DEFAULT_AGENT_PAGE,
  MAX_AGENT_FILTER_CHARS,
  MAX_AGENT_PAGE,
  StoreError,
} from "./store.ts";

/** Largest offset of a page: beyond any fleet, and a bound on the rows a request skips. */
export const MAX_AGENT_OFFSET = 10_000_000;

/** The substring filters of {@linkcode AgentQuery}, with their columns. */
export const AGENT_TEXT_FILTERS = [
  ["name", "hostname"],
  ["os", "os"],
  ["version", "version"],
  ["address", "address"],
] as const;

/** The column each order follows (each has an index). */
export const AGENT_SORT_COLUMNS: Record<AgentSort, string> = {
  hostname: "hostname",
  lastSeen: "last_seen",
  lastHeartbeat: "last_heartbeat",
  registeredAt: "first_seen",
};

/** An {@linkcode AgentQuery} with its defaults applied and its bounds checked. */
export interface CheckedAgentQuery {
  readonly query: AgentQuery;
  readonly sort: AgentSort;
  readonly descending: boolean;
  readonly offset: number;
  readonly limit: number;
  /** The substring filters that are set, with their columns. */
  readonly filters: readonly { readonly column: string; readonly text: string }[];
}

/**
 * Applies the defaults of a query and checks its bounds.
 *
 * @param query As given by the console or the CLI.
 * @returns The checked query.
 * @throws {StoreError} `invalid` for a page, offset, order, status or filter out of bounds.
 * @example
 * ```ts
 * checkAgentQuery({ cutoffs, status: "late", limit: 50 });
 * ```
 */
export function checkAgentQuery(query: AgentQuery): CheckedAgentQuery {
  const limit = query.limit ?? DEFAULT_AGENT_PAGE;
  const offset = query.offset ?? 0;
  const sort = query.sort ?? "hostname";
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AGENT_PAGE) {
    throw new StoreError(`Page size must be 1 to ${MAX_AGENT_PAGE}, not ${limit}`, "invalid");
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_AGENT_OFFSET) {
    throw new StoreError(`Offset must be 0 to ${MAX_AGENT_OFFSET}, not ${offset}`, "invalid");
  }
  if (!AGENT_SORTS.includes(sort)) throw new StoreError("Unknown order of nodes", "invalid");
  if (query.status !== undefined && !AGENT_STATUSES.includes(query.status)) {
    throw new StoreError("Unknown node status", "invalid");
  }
  const { lateBefore, silentBefore } = query.cutoffs;
  if (!Number.isFinite(lateBefore) || !Number.isFinite(silentBefore)) {
    throw new StoreError("Status cutoffs must be finite times", "invalid");
  }
  const filters: { column: string; text: string }[] = [];
  for (const [key, column] of AGENT_TEXT_FILTERS) {
    const text = query[key];
    if (text === undefined || text === "") continue;
    if (text.length > MAX_AGENT_FILTER_CHARS) {
      throw new StoreError(
        `Filter ${key} is longer than ${MAX_AGENT_FILTER_CHARS} characters`,
        "invalid",
      );
    }
    filters.push({ column, text: text.toLowerCase() });
  }
  return { query, sort, descending: query.descending ?? false, offset, limit, filters };
}

/**
 * A stored node with the status its query computed.
 *
 * @param row A row of `agents` with a `status` column.
 * @returns The node.
 * @example
 * ```ts
 * rows.map(toAgentRow);
 * ```
 */
export function toAgentRow(row: Row): AgentRow {
  return {
    ...toAgent(row),
    status: String(row.status) as AgentStatus,
    disconnectedAt: nullableNumber(row.disconnected_at),
  };
}

/**
 * Counts per status from `(status, n)` rows, with zero for the missing ones.
 *
 * @param rows Result of a `GROUP BY` on the status.
 * @returns One count per status.
 * @example
 * ```ts
 * statusCounts([{ status: "late", n: 3 }]); // { alive: 0, late: 3, ... }
 * ```
 */
export function statusCounts(rows: readonly Row[]): Record<AgentStatus, number> {
  const counts = Object.fromEntries(AGENT_STATUSES.map((s) => [s, 0])) as Record<
    AgentStatus,
    number
  >;
  for (const row of rows) {
    const status = String(row.status) as AgentStatus;
    if (status in counts) counts[status] += Number(row.n);
  }
  return counts;
}

/**
 * What both stores share for the nodes' page: checking an
 * {@linkcode AgentQuery}, the columns behind each order, the cursor of the
 * next page, the range of a prefix filter, and the row of a node with its
 * status.
 *
 * @module
 */

import { nullableNumber, type Row, toAgent } from "./_rows.ts";
import {
  AGENT_CURSOR_PATTERN,
  AGENT_FILTER_KEYS,
  AGENT_MATCHES,
  AGENT_SORTS,
  AGENT_STATUSES,
  type AgentFilterKey,
  type AgentPage,
  type AgentQuery,
  type AgentRow,
  type AgentSort,
  type AgentStatus,
  DEFAULT_AGENT_PAGE,
  MAX_AGENT_CURSOR_CHARS,
  MAX_AGENT_FILTER_CHARS,
  MAX_AGENT_OFFSET,
  MAX_AGENT_PAGE,
  StoreError,
} from "./store.ts";

/** The column of each text filter of {@linkcode AgentQuery}. */
const AGENT_FILTER_COLUMNS: Record<AgentFilterKey, string> = {
  name: "hostname",
  os: "os",
  version: "version",
  address: "address",
};

/** The column each order follows (each has an index). */
export const AGENT_SORT_COLUMNS: Record<AgentSort, string> = {
  hostname: "hostname",
  lastSeen: "last_seen",
  lastHeartbeat: "last_heartbeat",
  registeredAt: "first_seen",
};

/** Where a page starts: the sort key and id of the last node of the page before. */
export interface AgentPosition {
  /** The sort column's value: a hostname, a time, or null (no heartbeat yet). */
  readonly key: string | number | null;
  readonly id: number;
}

/** A text filter that is set: its column, its lowercased text and, for a prefix, its range. */
export interface AgentTextFilter {
  readonly column: string;
  readonly text: string;
  /**
   * For a prefix: the lowercased values that start with it are at or after
   * `from` and before `to` (no upper bound when null). Undefined for a substring.
   */
  readonly range?: { readonly from: string; readonly to: string | null };
}

/** An {@linkcode AgentQuery} with its defaults applied and its bounds checked. */
export interface CheckedAgentQuery {
  readonly query: AgentQuery;
  readonly sort: AgentSort;
  readonly descending: boolean;
  readonly offset: number;
  readonly limit: number;
  /** The text filters that are set. */
  readonly filters: readonly AgentTextFilter[];
  /** The position of {@linkcode AgentQuery.after}, decoded, or null. */
  readonly after: AgentPosition | null;
}

/**
 * The part of a keyset walk the stores read with one index range: nodes with
 * a sort key (`values`), without one (`nulls`, only the heartbeat order has
 * them), or both (`all`).
 */
export interface KeysetSegment {
  readonly rows: "values" | "nulls" | "all";
  /** Start strictly after this position (the cursor), or at the segment's start. */
  readonly after: AgentPosition | null;
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
  const descending = query.descending ?? false;
  const match = query.match ?? "contains";
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AGENT_PAGE) {
    throw new StoreError(`Page size must be 1 to ${MAX_AGENT_PAGE}, not ${limit}`, "invalid");
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_AGENT_OFFSET) {
    throw new StoreError(`Offset must be 0 to ${MAX_AGENT_OFFSET}, not ${offset}`, "invalid");
  }
  if (!AGENT_SORTS.includes(sort)) throw new StoreError("Unknown order of nodes", "invalid");
  if (!AGENT_MATCHES.includes(match)) throw new StoreError("Unknown kind of match", "invalid");
  if (query.status !== undefined && !AGENT_STATUSES.includes(query.status)) {
    throw new StoreError("Unknown node status", "invalid");
  }
  const { lateBefore, silentBefore } = query.cutoffs;
  if (!Number.isFinite(lateBefore) || !Number.isFinite(silentBefore)) {
    throw new StoreError("Status cutoffs must be finite times", "invalid");
  }
  const filters: AgentTextFilter[] = [];
  for (const key of AGENT_FILTER_KEYS) {
    const column = AGENT_FILTER_COLUMNS[key];
    const text = query[key];
    if (text === undefined || text === "") continue;
    if (text.length > MAX_AGENT_FILTER_CHARS) {
      throw new StoreError(
        `Filter ${key} is longer than ${MAX_AGENT_FILTER_CHARS} characters`,
        "invalid",
      );
    }
    const lower = asciiLower(text);
    filters.push(
      match === "prefix"
        ? { column, text: lower, range: { from: lower, to: prefixEnd(lower) } }
        : { column, text: lower },
    );
  }
  let after: AgentPosition | null = null;
  if (query.after !== undefined) {
    if (offset !== 0) throw new StoreError("A page starts at an offset or a cursor", "invalid");
    after = decodeAgentCursor(query.after, sort, descending);
  }
  return { query, sort, descending, offset, limit, filters, after };
}

/**
 * The first string after every string that starts with `prefix`, in code
 * point order (the byte order of UTF-8, as both stores compare): its last
 * code point incremented, or null when there is none.
 */
function prefixEnd(prefix: string): string | null {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

/**
 * `text` with its ASCII letters lowercased and every other character kept:
 * the case folding of both stores' `lower()` as the filters use it, so that
 * a filter always matches its own text.
 */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The sort key of a node for an order. */
function sortKey(agent: AgentRow, sort: AgentSort): string | number | null {
  switch (sort) {
    case "hostname":
      return agent.hostname;
    case "lastSeen":
      return agent.lastSeen;
    case "lastHeartbeat":
      return agent.lastHeartbeat;
    case "registeredAt":
      return agent.firstSeen;
  }
}

/**
 * The cursor that starts a page after `agent`: base64url of a JSON object
 * with the order, the direction, the sort key and the id.
 *
 * @param agent The last node of a page.
 * @param checked The page's query.
 * @returns An opaque string of at most {@linkcode MAX_AGENT_CURSOR_CHARS} characters.
 * @example
 * ```ts
 * encodeAgentCursor(rows.at(-1)!, checked);
 * ```
 */
export function encodeAgentCursor(agent: AgentRow, checked: CheckedAgentQuery): string {
  const json = JSON.stringify({
    s: checked.sort,
    d: checked.descending ? 1 : 0,
    k: sortKey(agent, checked.sort),
    i: agent.id,
  });
  return new TextEncoder().encode(json).toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Reads a cursor as hostile input: its length, alphabet, JSON, fields and
 * their types are checked, and it must belong to the query's order.
 *
 * @param cursor As given by a client.
 * @param sort The query's order.
 * @param descending The query's direction.
 * @returns The position it names.
 * @throws {StoreError} `invalid`, with a one-line reason.
 * @example
 * ```ts
 * decodeAgentCursor(page.next!, "hostname", false); // { key: "web-01", id: 7 }
 * ```
 */
export function decodeAgentCursor(
  cursor: string,
  sort: AgentSort,
  descending: boolean,
): AgentPosition {
  const invalid = () => new StoreError("Cursor is not one this server gave", "invalid");
  if (
    typeof cursor !== "string" || cursor.length === 0 || cursor.length > MAX_AGENT_CURSOR_CHARS ||
    !AGENT_CURSOR_PATTERN.test(cursor)
  ) {
    throw invalid();
  }
  let value: unknown;
  try {
    const bytes = Uint8Array.fromBase64(cursor, { alphabet: "base64url" });
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid();
  const fields = value as Record<string, unknown>;
  if (Object.keys(fields).sort().join() !== "d,i,k,s") throw invalid();
  const { s, d, k, i } = fields;
  if (typeof i !== "number" || !Number.isSafeInteger(i) || i < 0) throw invalid();
  if (s !== sort || d !== (descending ? 1 : 0)) {
    throw new StoreError("Cursor belongs to another order of nodes", "invalid");
  }
  const fits = sort === "hostname"
    ? typeof k === "string"
    : (typeof k === "number" && Number.isSafeInteger(k)) ||
      (k === null && sort === "lastHeartbeat");
  if (!fits) throw invalid();
  return { key: k as string | number | null, id: i };
}

/**
 * The segments a page after a cursor reads, in order: the nodes without a
 * heartbeat come first ascending and last descending, so the heartbeat order
 * has two (each a range of its index); the others have one.
 *
 * @param checked A query with a cursor.
 * @param after Its position.
 * @returns The segments from the cursor's on.
 * @example
 * ```ts
 * keysetSegments(checked, checked.after!);
 * ```
 */
export function keysetSegments(
  checked: CheckedAgentQuery,
  after: AgentPosition,
): KeysetSegment[] {
  if (checked.sort !== "lastHeartbeat") return [{ rows: "all", after }];
  const order: KeysetSegment["rows"][] = checked.descending
    ? ["values", "nulls"]
    : ["nulls", "values"];
  const start = order.indexOf(after.key === null ? "nulls" : "values");
  return order.slice(start).map((rows, i) => ({ rows, after: i === 0 ? after : null }));
}

/**
 * What sorting a node costs against passing one on an index walk: a page of
 * one status either walks its order's index, passing the nodes of the other
 * statuses, or takes the status's range of the liveness index and sorts it.
 */
const SORTED_NODE_COST = 4;

/**
 * Whether a page of one status is cheaper by walking its order's index than
 * by sorting the status's nodes. Neither planner can tell: SQLite keeps no
 * statistics of the status mix, and PostgreSQL's statistics of heartbeat
 * times are always older than the last heartbeats, so both take the
 * liveness index even for the status most nodes have. The counts per status
 * tell.
 *
 * @param counts The counts per status of the nodes the page is drawn from.
 * @param status The page's status.
 * @param reach How many nodes of that status the page passes: its offset and its rows.
 * @returns True to walk the order's index.
 * @example
 * ```ts
 * walksOrderIndex({ alive: 90, late: 10, ... }, "alive", 501); // true
 * ```
 */
export function walksOrderIndex(
  counts: Readonly<Record<AgentStatus, number>>,
  status: AgentStatus,
  reach: number,
): boolean {
  const total = AGENT_STATUSES.reduce((sum, s) => sum + counts[s], 0);
  const matching = counts[status];
  if (matching === 0) return false;
  const walked = Math.min(total, reach * total / matching);
  return walked <= matching * SORTED_NODE_COST;
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
 * Counts per status from one row with a count column per status (a missing
 * or null one counts zero).
 *
 * @param row The row of a counting query, its columns named after the statuses.
 * @returns One count per status.
 * @example
 * ```ts
 * statusCounts({ alive: 2, late: 3 }); // { alive: 2, late: 3, disconnected: 0, ... }
 * ```
 */
export function statusCounts(row: Row): Record<AgentStatus, number> {
  return Object.fromEntries(AGENT_STATUSES.map((s) => [s, Number(row[s] ?? 0)])) as Record<
    AgentStatus,
    number
  >;
}

/**
 * The page of a query from the rows read and the counts: the rows read are one
 * more than the page when there is a next one, whose cursor starts after the
 * page's last node.
 *
 * @param rows The rows read in order, with a `status` column, at most one more than the page.
 * @param counts The counts per status of the nodes the text filters leave.
 * @param checked The page's query.
 * @returns The page.
 * @example
 * ```ts
 * agentPage(rows, statusCounts(countRow), checked);
 * ```
 */
export function agentPage(
  rows: readonly Row[],
  counts: Record<AgentStatus, number>,
  checked: CheckedAgentQuery,
): AgentPage {
  const agents = rows.slice(0, checked.limit).map(toAgentRow);
  const status = checked.query.status;
  const total = status === undefined
    ? Object.values(counts).reduce((sum, n) => sum + n, 0)
    : counts[status];
  const next = rows.length > checked.limit ? encodeAgentCursor(agents.at(-1)!, checked) : null;
  return { agents, total, counts, next };
}

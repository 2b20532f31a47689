/**
 * The nodes of the SQLite store: changes applied in one transaction, and the
 * console's pages. Every statement is an indexed lookup or follows an index;
 * filter values are always bound parameters.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { PreparedStatements } from "./_prepared_statements.ts";
import { transaction } from "./transaction.ts";
import {
  AGENT_SORT_COLUMNS,
  agentPage,
  checkAgentQuery,
  keysetSegments,
  statusCounts,
  walksOrderIndex,
} from "./_agent_query.ts";
import { type Row, toAgent } from "./_rows.ts";
import {
  AGENT_STATUSES,
  type AgentChange,
  type AgentChangeResult,
  type AgentPage,
  type AgentQuery,
  type AgentRecord,
  type AgentStatus,
  type SilenceSpan,
} from "./store.ts";

type Params = Record<string, SQLInputValue>;

/**
 * A node's status from its connection state (`open`, `gone`, `stopped`), its
 * last heartbeat and the cutoffs `:late` and `:silent`; the same rules as
 * `agentStatus()` in server/liveness/agent_status.ts.
 */
export const SQLITE_STATUS_SQL = `CASE
  WHEN state = 'stopped' THEN 'stopped'
  WHEN last_heartbeat IS NULL THEN
    CASE WHEN state = 'open' AND last_seen >= :silent THEN 'alive' ELSE 'never_seen' END
  WHEN state = 'gone' OR last_heartbeat < :silent THEN 'disconnected'
  WHEN last_heartbeat < :late THEN 'late'
  ELSE 'alive' END`;

/**
 * Each status as a condition on the liveness columns, written as given: the
 * columns themselves, or each behind a unary `+`, which no index serves.
 */
function statusConditions(state: string, beat: string, seen: string): Record<AgentStatus, string> {
  return {
    stopped: `${state} = 'stopped'`,
    alive: `${state} = 'open' AND (${beat} >= :late OR (${beat} IS NULL AND ${seen} >= :silent))`,
    late: `${state} = 'open' AND ${beat} >= :silent AND ${beat} < :late`,
    disconnected: `((${state} = 'gone' AND ${beat} IS NOT NULL) OR ` +
      `(${state} = 'open' AND ${beat} < :silent))`,
    "never_seen": `((${state} = 'gone' AND ${beat} IS NULL) OR ` +
      `(${state} = 'open' AND ${beat} IS NULL AND ${seen} < :silent))`,
  };
}

/** Each status as a condition the liveness index `(state, last_heartbeat, last_seen)` serves. */
export const STATUS_WHERE = statusConditions("state", "last_heartbeat", "last_seen");

/**
 * Each status as a condition no index serves (unary `+` keeps the planner off
 * the liveness index), so that a page follows its order's index and checks
 * each node it passes.
 */
export const STATUS_WHERE_UNINDEXED = statusConditions("+state", "+last_heartbeat", "+last_seen");

/** The counts per status, each from ranges of the liveness index `(state, last_heartbeat, last_seen)`. */
const RANGE_COUNTS_SQL = `SELECT
  (SELECT count(*) FROM agents WHERE state = 'open' AND last_heartbeat >= :late) +
    (SELECT count(*) FROM agents
      WHERE state = 'open' AND last_heartbeat IS NULL AND last_seen >= :silent) AS alive,
  (SELECT count(*) FROM agents
    WHERE state = 'open' AND last_heartbeat >= :silent AND last_heartbeat < :late) AS late,
  (SELECT count(*) FROM agents WHERE state = 'gone' AND last_heartbeat IS NOT NULL) +
    (SELECT count(*) FROM agents WHERE state = 'open' AND last_heartbeat < :silent)
    AS disconnected,
  (SELECT count(*) FROM agents WHERE state = 'stopped') AS stopped,
  (SELECT count(*) FROM agents WHERE state = 'gone' AND last_heartbeat IS NULL) +
    (SELECT count(*) FROM agents
      WHERE state = 'open' AND last_heartbeat IS NULL AND last_seen < :silent) AS never_seen`;

/** Most distinct page queries kept prepared (filters × status × order × segment: a small, fixed set). */
const MAX_PREPARED_PAGE_QUERIES = 1_000;

/**
 * The `agents` table of one SQLite connection.
 *
 * @example
 * ```ts
 * const agents = new SqliteAgents(db);
 * await agents.apply([{ kind: "register", registration }]);
 * ```
 */
export class SqliteAgents {
  readonly #db: DatabaseSync;
  readonly #find: StatementSync;
  readonly #upsert: StatementSync;
  readonly #heartbeat: StatementSync;
  readonly #stop: StatementSync;
  readonly #disconnect: StatementSync;
  readonly #fallenSilent: StatementSync;
  /** Page queries: their text depends only on which filters are set. */
  readonly #prepared: PreparedStatements;

  /** @param db The store's connection, migrated. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#prepared = new PreparedStatements(db, MAX_PREPARED_PAGE_QUERIES);
    this.#find = db.prepare("SELECT id FROM agents WHERE hostname = ?");
    this.#upsert = db.prepare(`
      INSERT INTO agents (hostname, version, os, address, first_seen, last_seen)
      VALUES (:hostname, :version, :os, :address, :at, :at)
      ON CONFLICT (hostname) DO UPDATE SET version = :version, os = :os,
        address = :address, last_seen = :at, stopped_at = NULL, state = 'open',
        disconnected_at = NULL
      RETURNING id`);
    this.#heartbeat = db.prepare(`
      UPDATE agents SET last_seen = :at, last_heartbeat = :at, uptime_seconds = :uptime,
        lag_bytes = coalesce(:lag, lag_bytes), stopped_at = NULL, state = 'open',
        disconnected_at = NULL
      WHERE id = :id`);
    this.#stop = db.prepare(`
      UPDATE agents SET stopped_at = :at, last_seen = :at, state = 'stopped',
        disconnected_at = NULL
      WHERE id = :id`);
    // Only a node still open and not heard from since the closed connection's last contact.
    this.#disconnect = db.prepare(`
      UPDATE agents SET state = 'gone', disconnected_at = :at
      WHERE id = :id AND state = 'open' AND last_seen <= :contact`);
    // Four ranges of the liveness index: each state that is not stopped, with
    // and without a heartbeat.
    this.#fallenSilent = db.prepare(`
      SELECT * FROM agents WHERE state IN ('open', 'gone')
        AND last_heartbeat >= :since AND last_heartbeat < :before
      UNION ALL
      SELECT * FROM agents WHERE state IN ('open', 'gone') AND last_heartbeat IS NULL
        AND last_seen >= :since AND last_seen < :before`);
  }

  /**
   * The nodes whose silence began within a span of the cutoff.
   *
   * @param span The previous and the current cutoff.
   * @returns Those nodes.
   */
  fallenSilent(span: SilenceSpan): AgentRecord[] {
    return (this.#fallenSilent.all({ since: span.since, before: span.before }) as Row[]).map(
      toAgent,
    );
  }

  /**
   * Applies changes in one transaction (one commit, however many).
   *
   * @param changes In order.
   * @returns One result per change.
   */
  apply(changes: readonly AgentChange[]): AgentChangeResult[] {
    if (changes.length === 0) return [];
    return transaction(this.#db, () => changes.map((change) => this.#applyOne(change)));
  }

  #applyOne(change: AgentChange): AgentChangeResult {
    switch (change.kind) {
      case "register": {
        const r = change.registration;
        const known = this.#find.get(r.hostname) !== undefined;
        const row = this.#upsert.get({
          hostname: r.hostname,
          version: r.version,
          os: r.os,
          address: r.address,
          at: r.at,
        }) as Params;
        return { agentId: Number(row.id), created: !known };
      }
      case "heartbeat": {
        const h = change.heartbeat;
        this.#heartbeat.run({ at: h.at, uptime: h.uptimeSeconds, lag: h.lagBytes, id: h.agentId });
        return { agentId: h.agentId, created: false };
      }
      case "stop":
        this.#stop.run({ at: change.at, id: change.agentId });
        return { agentId: change.agentId, created: false };
      case "disconnect":
        this.#disconnect.run({ at: change.at, id: change.agentId, contact: change.lastContact });
        return { agentId: change.agentId, created: false };
    }
  }

  /**
   * One page of nodes and the counts per status.
   *
   * @param query Cutoffs, filters, order and page.
   * @returns The page.
   */
  page(query: AgentQuery): AgentPage {
    const checked = checkAgentQuery(query);
    const params: Params = {};
    const where: string[] = [];
    checked.filters.forEach((filter, i) => {
      const value = `lower(${filter.column})`;
      if (filter.range === undefined) {
        where.push(`instr(${value}, :f${i}) > 0`);
        params[`f${i}`] = filter.text;
        return;
      }
      // A range of the index on lower(column), instead of a pass over every node.
      where.push(`${value} >= :f${i}`);
      params[`f${i}`] = filter.range.from;
      if (filter.range.to !== null) {
        where.push(`${value} < :t${i}`);
        params[`t${i}`] = filter.range.to;
      }
    });
    const cutoffs = {
      late: query.cutoffs.lateBefore,
      silent: query.cutoffs.silentBefore,
    };
    // Without a text filter, each count is a range of the liveness index; with
    // one, a single pass over the rows the filters leave.
    const countSql = where.length === 0
      ? RANGE_COUNTS_SQL
      : `SELECT ${
        AGENT_STATUSES.map((s) => `count(*) FILTER (WHERE ${STATUS_WHERE[s]}) AS "${s}"`).join(", ")
      } FROM agents WHERE ${where.join(" AND ")}`;
    const row = this.#prepared.get(countSql).get({ ...params, ...cutoffs }) as Params;
    const counts = statusCounts(row);
    // One row more than the page tells whether there is a next one.
    const want = checked.limit + 1;
    // Without a text filter the counts are of every node, and tell which way is cheaper.
    if (query.status !== undefined) {
      const walk = where.length === 0 &&
        walksOrderIndex(counts, query.status, checked.offset + want);
      where.push((walk ? STATUS_WHERE_UNINDEXED : STATUS_WHERE)[query.status]);
    }
    const column = AGENT_SORT_COLUMNS[checked.sort];
    const direction = checked.descending ? "DESC" : "ASC";
    const select = (conditions: readonly string[], tail: string) =>
      this.#prepared.get(`
        SELECT *, ${SQLITE_STATUS_SQL} AS status FROM agents
        ${conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : ""}
        ORDER BY ${column} ${direction}, id ${direction} ${tail}`);
    const rows: Row[] = [];
    if (checked.after === null) {
      rows.push(
        ...select(where, "LIMIT :limit OFFSET :offset").all({
          ...params,
          ...cutoffs,
          limit: want,
          offset: checked.offset,
        }) as Row[],
      );
    } else {
      // Keyset: each segment is a range of the order's index from the cursor on.
      const op = checked.descending ? "<" : ">";
      for (const segment of keysetSegments(checked, checked.after)) {
        const conditions = [...where];
        const bound: Params = {};
        if (segment.rows === "nulls") conditions.push(`${column} IS NULL`);
        if (segment.rows === "values") conditions.push(`${column} IS NOT NULL`);
        if (segment.after !== null && segment.rows === "nulls") {
          conditions.push(`id ${op} :after_id`);
          bound.after_id = segment.after.id;
        } else if (segment.after !== null) {
          conditions.push(`(${column}, id) ${op} (:after_key, :after_id)`);
          bound.after_key = segment.after.key;
          bound.after_id = segment.after.id;
        }
        rows.push(
          ...select(conditions, "LIMIT :limit").all({
            ...params,
            ...cutoffs,
            ...bound,
            limit: want - rows.length,
          }) as Row[],
        );
        if (rows.length >= want) break;
      }
    }
    return agentPage(rows, counts, checked);
  }
}

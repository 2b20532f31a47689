/**
 * The nodes of the PostgreSQL store: changes applied in one transaction (its
 * statements pipelined), and the console's pages. Every statement is an
 * indexed lookup or follows an index; filter values are always bound
 * parameters.
 *
 * @module
 */

import type { PendingQuery, Row, Sql, TransactionSql } from "postgres";
import { clean } from "./_postgres_ingest.ts";
import {
  AGENT_SORT_COLUMNS,
  agentPage,
  checkAgentQuery,
  keysetSegments,
  statusCounts,
  walksOrderIndex,
} from "./_agent_query.ts";
import {
  type AgentChange,
  type AgentChangeResult,
  type AgentPage,
  type AgentQuery,
  type AgentRecord,
  type AgentStatus,
  type SilenceSpan,
} from "./store.ts";
import { toAgent } from "./_rows.ts";

type Fragment = PendingQuery<Row[]>;

/** A node's status; the same rules as `SQLITE_STATUS_SQL` and `agentStatus()`. */
function statusSql(sql: Sql, late: number, silent: number): Fragment {
  return sql`CASE
    WHEN state = 'stopped' THEN 'stopped'
    WHEN last_heartbeat IS NULL THEN
      CASE WHEN state = 'open' AND last_seen >= ${silent} THEN 'alive' ELSE 'never_seen' END
    WHEN state = 'gone' OR last_heartbeat < ${silent} THEN 'disconnected'
    WHEN last_heartbeat < ${late} THEN 'late'
    ELSE 'alive' END`;
}

/**
 * Each status as a condition the liveness index `(state, last_heartbeat,
 * last_seen)` serves or, `unindexed`, one no index serves (its columns inside
 * expressions), so that a page follows its order's index and checks each
 * node it passes.
 */
function statusWhere(
  sql: Sql,
  status: AgentStatus,
  late: number,
  silent: number,
  unindexed = false,
): Fragment {
  const state = unindexed ? sql`(state || '')` : sql`state`;
  const beat = unindexed ? sql`(last_heartbeat + 0)` : sql`last_heartbeat`;
  const seen = unindexed ? sql`(last_seen + 0)` : sql`last_seen`;
  switch (status) {
    case "stopped":
      return sql`${state} = 'stopped'`;
    case "alive":
      return sql`${state} = 'open' AND (${beat} >= ${late} OR
        (${beat} IS NULL AND ${seen} >= ${silent}))`;
    case "late":
      return sql`${state} = 'open' AND ${beat} >= ${silent} AND ${beat} < ${late}`;
    case "disconnected":
      return sql`((${state} = 'gone' AND ${beat} IS NOT NULL) OR
        (${state} = 'open' AND ${beat} < ${silent}))`;
    case "never_seen":
      return sql`((${state} = 'gone' AND ${beat} IS NULL) OR
        (${state} = 'open' AND ${beat} IS NULL AND ${seen} < ${silent}))`;
  }
}

/** The fragments joined with AND, or `true`. */
function and(sql: Sql, parts: readonly Fragment[]): Fragment {
  if (parts.length === 0) return sql`true`;
  return parts.slice(1).reduce((all, part) => sql`${all} AND ${part}`, parts[0]!);
}

/**
 * Applies node changes in one transaction, their statements pipelined.
 *
 * @param sql The store's pool.
 * @param changes In order.
 * @returns One result per change.
 * @example
 * ```ts
 * await applyPostgresAgentChanges(sql, [{ kind: "register", registration }]);
 * ```
 */
export async function applyPostgresAgentChanges(
  sql: Sql,
  changes: readonly AgentChange[],
): Promise<AgentChangeResult[]> {
  if (changes.length === 0) return [];
  const results = await sql.begin((tx) =>
    changes.map((change) => {
      switch (change.kind) {
        case "register": {
          const r = change.registration;
          // xmax is 0 for a row this statement inserted rather than updated.
          return tx`
            INSERT INTO agents (hostname, version, os, address, first_seen, last_seen)
            VALUES (${clean(r.hostname)}, ${clean(r.version)}, ${clean(r.os)},
              ${clean(r.address)}, ${r.at}, ${r.at})
            ON CONFLICT (hostname) DO UPDATE SET version = excluded.version,
              os = excluded.os, address = excluded.address, last_seen = excluded.last_seen,
              stopped_at = NULL, state = 'open', disconnected_at = NULL
            RETURNING id, (xmax = 0) AS created`;
        }
        case "heartbeat": {
          const h = change.heartbeat;
          return tx`
            UPDATE agents SET last_seen = ${h.at}, last_heartbeat = ${h.at},
              uptime_seconds = ${h.uptimeSeconds},
              lag_bytes = coalesce(${h.lagBytes}::bigint, lag_bytes), stopped_at = NULL,
              state = 'open', disconnected_at = NULL
            WHERE id = ${h.agentId}`;
        }
        case "stop":
          return tx`
            UPDATE agents SET stopped_at = ${change.at}, last_seen = ${change.at},
              state = 'stopped', disconnected_at = NULL
            WHERE id = ${change.agentId}`;
        case "disconnect":
          // Only a node still open and not heard from since the closed connection's last contact.
          return tx`
            UPDATE agents SET state = 'gone', disconnected_at = ${change.at}
            WHERE id = ${change.agentId} AND state = 'open'
              AND last_seen <= ${change.lastContact}`;
      }
    })
  );
  return changes.map((change, i) => {
    if (change.kind === "heartbeat") return { agentId: change.heartbeat.agentId, created: false };
    if (change.kind !== "register") return { agentId: change.agentId, created: false };
    const row = (results[i] as unknown as Row[])[0]!;
    return { agentId: Number(row.id), created: row.created === true };
  });
}

/**
 * The counts per status of the store's last page without a text filter. A
 * page of one status needs only their proportions to choose its plan, so it
 * need not wait for its own counts; a mix gone stale costs one slow page.
 */
export interface StatusMix {
  counts: Record<AgentStatus, number> | null;
}

/**
 * One page of nodes and the counts per status.
 *
 * @param sql The store's pool.
 * @param query Cutoffs, filters, order and page.
 * @param mix The counts of the last page, read to choose the plan and then updated.
 * @returns The page.
 * @example
 * ```ts
 * await queryPostgresAgents(sql, { cutoffs, status: "late" }, { counts: null });
 * ```
 */
export async function queryPostgresAgents(
  sql: Sql,
  query: AgentQuery,
  mix: StatusMix,
): Promise<AgentPage> {
  const checked = checkAgentQuery(query);
  const late = query.cutoffs.lateBefore;
  const silent = query.cutoffs.silentBefore;
  const filters = checked.filters.map((f) => {
    // Lowercased in the "C" collation: ASCII letters only, as SQLite's lower(),
    // and without the database locale's cost per character.
    const value = sql`lower(${sql(f.column)} COLLATE "C") COLLATE "C"`;
    if (f.range === undefined) return sql`strpos(${value}, ${clean(f.text)}) > 0`;
    // A range of the index on that expression, instead of a pass over every node.
    return f.range.to === null
      ? sql`${value} >= ${clean(f.range.from)}`
      : sql`${value} >= ${clean(f.range.from)} AND ${value} < ${clean(f.range.to)}`;
  });
  // Without a text filter, each count is a range of the liveness index; with
  // one, a single pass over the rows the filters leave.
  const countQuery = filters.length === 0
    ? sql`SELECT
      (SELECT count(*) FROM agents WHERE state = 'open' AND last_heartbeat >= ${late}) +
        (SELECT count(*) FROM agents
          WHERE state = 'open' AND last_heartbeat IS NULL AND last_seen >= ${silent}) AS alive,
      (SELECT count(*) FROM agents
        WHERE state = 'open' AND last_heartbeat >= ${silent} AND last_heartbeat < ${late}) AS late,
      (SELECT count(*) FROM agents WHERE state = 'gone' AND last_heartbeat IS NOT NULL) +
        (SELECT count(*) FROM agents WHERE state = 'open' AND last_heartbeat < ${silent})
        AS disconnected,
      (SELECT count(*) FROM agents WHERE state = 'stopped') AS stopped,
      (SELECT count(*) FROM agents WHERE state = 'gone' AND last_heartbeat IS NULL) +
        (SELECT count(*) FROM agents
          WHERE state = 'open' AND last_heartbeat IS NULL AND last_seen < ${silent}) AS never_seen`
    : sql`SELECT
      count(*) FILTER (WHERE ${statusWhere(sql, "alive", late, silent)}) AS alive,
      count(*) FILTER (WHERE ${statusWhere(sql, "late", late, silent)}) AS late,
      count(*) FILTER (WHERE ${statusWhere(sql, "disconnected", late, silent)}) AS disconnected,
      count(*) FILTER (WHERE ${statusWhere(sql, "stopped", late, silent)}) AS stopped,
      count(*) FILTER (WHERE ${statusWhere(sql, "never_seen", late, silent)}) AS never_seen
      FROM agents WHERE ${and(sql, filters)}`;
  // Without a text filter the counts are of every node, and tell which way a
  // page of one status is cheaper: the last page's, or these when there was
  // none. The counts and the page are then independent reads, on two of the
  // pool's connections at once: a request costs the longer of the two.
  const status = query.status;
  const chooses = status !== undefined && filters.length === 0;
  const counting = countQuery.then(([row]) => statusCounts(row!));
  const walk = chooses &&
    walksOrderIndex(mix.counts ?? await counting, status, checked.offset + checked.limit + 1);
  const where = status === undefined
    ? filters
    : [...filters, statusWhere(sql, status, late, silent, walk)];
  const column = AGENT_SORT_COLUMNS[checked.sort];
  // Byte order for names, as SQLite. Only the heartbeat can be null: NULLS
  // FIRST ascending as SQLite, as its index is built; the other orders keep
  // the default null order, or the planner would not follow their index.
  const key = checked.sort === "hostname" ? sql`hostname COLLATE "C"` : sql(column);
  const order = checked.sort !== "lastHeartbeat"
    ? (checked.descending ? sql`${key} DESC, id DESC` : sql`${key} ASC, id ASC`)
    : checked.descending
    ? sql`${key} DESC NULLS LAST, id DESC`
    : sql`${key} ASC NULLS FIRST, id ASC`;
  // One row more than the page tells whether there is a next one.
  const want = checked.limit + 1;
  const select = (
    q: Sql | TransactionSql,
    conditions: readonly Fragment[],
    limit: number,
    offset: number,
  ) =>
    q`
      SELECT *, ${statusSql(sql, late, silent)} AS status FROM agents
      WHERE ${and(sql, conditions)} ORDER BY ${order}
      LIMIT ${limit} OFFSET ${offset}`;
  const readPage = async (q: Sql | TransactionSql): Promise<Row[]> => {
    const rows: Row[] = [];
    if (checked.after === null) return [...await select(q, where, want, checked.offset)];
    // Keyset: each segment is a range of the order's index from the cursor on.
    for (const segment of keysetSegments(checked, checked.after)) {
      const conditions = [...where];
      if (segment.rows === "nulls") conditions.push(sql`${sql(column)} IS NULL`);
      if (segment.rows === "values") conditions.push(sql`${sql(column)} IS NOT NULL`);
      const at = segment.after;
      if (at !== null && segment.rows === "nulls") {
        conditions.push(checked.descending ? sql`id < ${at.id}` : sql`id > ${at.id}`);
      } else if (at !== null) {
        const cursorKey = checked.sort === "hostname"
          ? sql`${clean(String(at.key))} COLLATE "C"`
          : sql`${at.key}::bigint`;
        conditions.push(
          checked.descending
            ? sql`(${key}, id) < (${cursorKey}, ${at.id})`
            : sql`(${key}, id) > (${cursorKey}, ${at.id})`,
        );
      }
      rows.push(...await select(q, conditions, want - rows.length, 0));
      if (rows.length >= want) break;
    }
    return rows;
  };
  // The planner estimates a status condition's rows from statistics older
  // than the last heartbeats, and would sort instead of walking; a walk in
  // index order gains nothing from parallel workers, which take milliseconds
  // to start.
  const reading = walk
    ? sql.begin(async (tx) => {
      await tx`SELECT set_config('enable_sort', 'off', true),
        set_config('max_parallel_workers_per_gather', '0', true)`;
      return await readPage(tx);
    })
    : readPage(sql);
  const [counts, rows] = await Promise.all([counting, reading]);
  if (filters.length === 0) mix.counts = counts;
  return agentPage(rows, counts, checked);
}

/**
 * The nodes whose silence began within a span of the cutoff: four ranges of
 * the liveness index (each state that is not stopped, with and without a
 * heartbeat).
 *
 * @param sql The store's pool.
 * @param span The previous and the current cutoff.
 * @returns Those nodes.
 * @example
 * ```ts
 * await listPostgresAgentsFallenSilent(sql, { since: before - 30_000, before });
 * ```
 */
export async function listPostgresAgentsFallenSilent(
  sql: Sql,
  span: SilenceSpan,
): Promise<AgentRecord[]> {
  const rows = await sql`
    SELECT * FROM agents WHERE state IN ('open', 'gone')
      AND last_heartbeat >= ${span.since} AND last_heartbeat < ${span.before}
    UNION ALL
    SELECT * FROM agents WHERE state IN ('open', 'gone') AND last_heartbeat IS NULL
      AND last_seen >= ${span.since} AND last_seen < ${span.before}`;
  return rows.map(toAgent);
}

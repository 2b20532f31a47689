// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * What the SQLite store's indexes of hosts and origins cost a fleet that has
 * run for hours, in the insert or behind it, measured in the same run:
 *
 * - `in the insert`: the store's schema with `(host, ts)` and the unique
 *   `(stream_id, pos)` back on the log table, as before they trailed ingest;
 * - `behind ingest`: the store's own schema, with a step of the deferred
 *   indexes whenever `DEFERRED_INDEX_STEP_ROWS` have gathered, as the writer
 *   takes them (sqlite_deferred_indexes.ts).
 *
 * Each first stores `--rows-per-key` rows for each of `--keys` hosts, one
 * stream each (so that every host and stream has pages of its own, as after
 * hours of a fleet), then times `--groups` transactions of `--group` rows from
 * as many different hosts, the shape of a fleet's group commits. Durable
 * commits (`synchronous=FULL`), 16 KiB pages, WAL, as the server.
 *
 * Usage: deno run -A tests/bench/index_layout.ts [--keys 4000] [--rows-per-key 1500]
 *          [--group 500] [--groups 400]
 *
 * @module
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { benchArgs, numberOption } from "./_args.ts";
import { openSqliteStore } from "../../server/store/sqlite_store.ts";
import {
  DEFERRED_INDEX_STEP_ROWS,
  indexDeferredStep,
} from "../../server/store/sqlite_deferred_indexes.ts";
import { transaction } from "../../server/store/transaction.ts";

/** Rows per multi-row INSERT while the store is filled before the clock starts. */
const FILL_ROWS_PER_INSERT = 500;
/** A fleet's line, as long as the simulated agents' (tests/bench/_fleet_agents.ts). */
const LINE =
  "<14>1 2026-12-07T06:00:00.000Z host-1234 fleet 1234 - - event 123456 from a simulated agent";

type Layout = "in the insert" | "behind ingest";

/** Inserts rows of the given hosts, each at its stream's next position, in one statement. */
function inserter(db: DatabaseSync, rows: number) {
  const tuple = "(?, ?, ?, ?, 0, ?, ?)";
  const statement = db.prepare(
    `INSERT INTO logs (received_at, ts, host, raw, msg_start, stream_id, pos) VALUES ${
      Array(rows).fill(tuple).join(",")
    }`,
  );
  const params: (string | number)[] = new Array(rows * 6);
  return (keys: number[], at: number, position: (key: number) => number) => {
    keys.forEach((key, r) => {
      const o = r * 6;
      params[o] = at;
      params[o + 1] = at;
      params[o + 2] = `host-${key}`;
      params[o + 3] = LINE;
      params[o + 4] = key + 1;
      params[o + 5] = position(key);
    });
    statement.run(...params);
  };
}

async function measure(
  dir: string,
  layout: Layout,
  options: { keys: number; rowsPerKey: number; group: number; groups: number },
): Promise<number> {
  const path = join(dir, `${layout === "in the insert" ? "insert" : "behind"}.db`);
  await (await openSqliteStore(path, { sync: "full" })).close(); // the store's own schema
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  if (layout === "in the insert") {
    db.exec("CREATE INDEX logs_host_ts ON logs (host, ts)");
    db.exec("CREATE UNIQUE INDEX logs_origin ON logs (stream_id, pos) WHERE stream_id IS NOT NULL");
  }
  const { keys, rowsPerKey, group, groups } = options;
  const next = new Array<number>(keys).fill(0);
  const position = (key: number) => ++next[key]!;
  let at = 1_700_000_000_000;
  transaction(db, () => {
    const addStream = db.prepare("INSERT INTO streams (id, key) VALUES (?, ?)");
    for (let key = 0; key < keys; key++) addStream.run(key + 1, `stream-${key}`);
    const fill = inserter(db, FILL_ROWS_PER_INSERT);
    const fillOne = inserter(db, 1);
    const all = Array.from({ length: keys }, (_, key) => key);
    for (let round = 0; round < rowsPerKey; round++) {
      for (let from = 0; from < keys; from += FILL_ROWS_PER_INSERT) {
        const part = all.slice(from, from + FILL_ROWS_PER_INSERT);
        if (part.length === FILL_ROWS_PER_INSERT) fill(part, at++, position);
        else for (const key of part) fillOne([key], at++, position);
      }
    }
  });
  if (layout === "behind ingest") {
    // Every stored row into the indexes.
    transaction(db, () => {
      while (indexDeferredStep(db, 1) !== null);
    });
  }
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const insert = inserter(db, group);
  const start = performance.now();
  for (let g = 0; g < groups; g++) {
    // A group commit's rows: one each from `group` hosts, a different set each time.
    const first = (g * group) % keys;
    const members = Array.from({ length: group }, (_, i) => (first + i) % keys);
    transaction(db, () => insert(members, at++, position));
    if (layout === "behind ingest") {
      transaction(db, () => indexDeferredStep(db, DEFERRED_INDEX_STEP_ROWS));
    }
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return (seconds * 1e6) / (group * groups);
}

if (import.meta.main) {
  const values = benchArgs(import.meta.url, {
    keys: { type: "string", default: "4000" },
    "rows-per-key": { type: "string", default: "1500" },
    group: { type: "string", default: "500" },
    groups: { type: "string", default: "400" },
  });
  const options = {
    keys: numberOption("keys", values.keys, { min: 1 }),
    rowsPerKey: numberOption("rows-per-key", values["rows-per-key"], { min: 1 }),
    group: numberOption("group", values.group, { min: 1 }),
    groups: numberOption("groups", values.groups, { min: 1 }),
  };
  options.group = Math.min(options.group, options.keys);
  console.log(
    `layout    ${options.keys.toLocaleString("en-US")} hosts and streams with ${
      options.rowsPerKey.toLocaleString("en-US")
    } rows each, then ${options.groups} transactions of ${options.group} rows from as many hosts`,
  );
  const dir = await Deno.makeTempDir({ prefix: "nms-layout-bench-" });
  try {
    const before = await measure(dir, "in the insert", options);
    console.log(`layout    host and origin indexes in the insert: ${before.toFixed(1)} µs per row`);
    const after = await measure(dir, "behind ingest", options);
    console.log(
      `layout    host and origin indexes behind ingest:  ${after.toFixed(1)} µs per row (${
        (before / after).toFixed(1)
      }x less)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

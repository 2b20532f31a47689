// deno-lint-ignore-file no-console -- a benchmark's output is its result, printed for the person running it
/**
 * `deno task bench`: every benchmark of NMS in one run on one machine, each
 * printing its figures beside the baseline it is judged against.
 *
 * Usage: deno task bench [--quick] [--store postgres://user@host:port/db] [--only PART,...]
 *
 * - ingest: K pipelining clients over the real protocol vs raw node:sqlite,
 *   with --workers 1, 2 and 4, with the built-in rules on and off, and with
 *   the full-text index kept close behind (--text-index-max-catchup);
 * - flood: server RSS with 200 connections flooding;
 * - agent: single-line latency, a 1,000,000-line burst, RSS idle and with a backlog;
 * - agent files: the agent following 1, 100 and 1,000 files: RSS and CPU idle,
 *   latency with the others idle, state bytes and fsyncs per 1,000 lines
 *   (`agent_files.ts --tree DIR` adds another checkout's agent, for a before column);
 * - fleet: 10,000 simulated agents and 24 real ones on one collector: connect
 *   rate, RSS and CPU at steady state, reconnection after a `kill -9`
 *   (token and shared password), liveness when they all vanish;
 * - index layout: a row's cost with the SQLite indexes of hosts and origins in
 *   the insert and behind it, after hours of a fleet (4,000 hosts of 1,500 rows);
 * - search: a rare keyword, host + time range and per-minute counts on 10 M events;
 * - console: the web console's API on 5 M events;
 * - syslog: TCP and UDP syslog ingest, and the same load through rsyslog and
 *   syslog-ng when they are installed;
 * - postgres: 1 and 2 collectors on one PostgreSQL beside the raw `COPY` of
 *   the same rows, and SQLite (with --store).
 *
 * `--quick` runs every part at a tenth of its size, for a smoke test.
 * `--only` runs only the parts named (their file names without `.ts`, e.g.
 * `--only postgres --store postgres://…`).
 *
 * @module
 */

import { join } from "node:path";
import { benchArgs, usageError } from "./_args.ts";

const values = benchArgs(import.meta.url, {
  quick: { type: "boolean", default: false },
  store: { type: "string" },
  only: { type: "string" },
});
const quick = values.quick;
const size = (n: number) => String(quick ? Math.max(1, Math.floor(n / 10)) : n);

const parts: [string, string[]][] = [
  ["ingest.ts", ["--events", size(1_000_000), "--workers", "1,2,4", "--runs", quick ? "1" : "3"]],
  // What the rules cost with `--workers 1` (the default pool on 2 CPUs): rules on and off
  // alternating, on the realistic mix and on a brute force's auth log.
  ...(["realistic", "attack"] as const).map((workload): [string, string[]] => [
    "ingest.ts",
    [
      "--events",
      size(1_000_000),
      "--workers",
      "1",
      "--runs",
      quick ? "1" : "3",
      "--rules",
      "on,off",
      "--workload",
      workload,
    ],
  ]),
  // The full-text index kept within 1.5 s of indexing behind ingest, at the cost of ingest speed.
  ["ingest.ts", [
    "--events",
    size(1_000_000),
    "--workers",
    "1",
    "--runs",
    quick ? "1" : "3",
    "--text-index-max-catchup",
    "1.5",
  ]],
  ["flood.ts", ["--connections", "200", "--seconds", quick ? "3" : "10"]],
  ["agent.ts", [
    "--burst",
    size(1_000_000),
    "--latency",
    quick ? "50" : "200",
    "--backlog-mb",
    quick ? "64" : "10240",
  ]],
  ["agent_files.ts", [
    "--files",
    quick ? "1,100" : "1,100,1000",
    "--idle-seconds",
    quick ? "5" : "20",
    "--latency",
    quick ? "50" : "200",
  ]],
  ["fleet.ts", [
    "--agents",
    size(10_000),
    "--real-agents",
    quick ? "4" : "24",
    "--steady-seconds",
    quick ? "10" : "30",
    "--password-seconds",
    quick ? "30" : "120",
    "--password-agents",
    quick ? "50" : "500",
  ]],
  // The indexes of hosts and origins in the insert or behind it, after hours of a fleet.
  ["index_layout.ts", [
    "--keys",
    size(4_000),
    "--rows-per-key",
    size(1_500),
    "--groups",
    size(400),
    "--group",
    quick ? "50" : "500",
  ]],
  ["search.ts", ["--events", size(10_000_000)]],
  ["console.ts", ["--events", size(5_000_000)]],
  ["syslog.ts", ["--events", size(500_000)]],
  ["compare_syslog.ts", ["--events", size(500_000)]],
];
if (values.store) {
  parts.push(["postgres.ts", [
    "--store",
    values.store,
    "--events",
    size(1_000_000),
    "--runs",
    quick ? "1" : "3",
  ]]);
} else if (values.only === undefined) {
  console.log("postgres  skipped: pass --store postgres://user@host:port/db to compare");
}
const names = new Set(parts.map(([script]) => script.replace(/\.ts$/, "")));
const only = values.only?.split(",").map((name) => name.trim()).filter((name) => name !== "");
for (const name of only ?? []) {
  if (name === "postgres" && !values.store) {
    usageError("--only postgres needs --store postgres://…");
  }
  if (!names.has(name)) {
    usageError(`--only expects parts among ${[...names].join(", ")}, got "${name}"`);
  }
}

let failed = 0;
for (const [script, args] of parts) {
  if (only && !only.includes(script.replace(/\.ts$/, ""))) continue;
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, script), ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    failed++;
    console.log(`${script} failed with exit code ${status.code}`);
  }
}
Deno.exit(failed === 0 ? 0 : 1);

/**
 * The short form of the hostile-input fuzz (issue 5) for `deno task test`:
 * a few thousand hostile lines against an in-process server while a
 * legitimate agent sends. `deno task fuzz` runs the long form against a
 * server subprocess.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startSecureServer } from "../_harness/secure_server.ts";
import { fuzzFailures, runFuzz } from "./fuzz.ts";

/**
 * Bound of this test process's RSS, in bytes. The server runs in-process, so
 * the test runner and the fuzz clients count too; `deno task fuzz` checks
 * the server alone against a tighter bound.
 */
const MAX_RSS_BYTES = 768 * 2 ** 20;

Deno.test("the server survives random, mutated and oversized lines, garbage, half-open connections and resets, storing every legitimate event and nothing else", async () => {
  await using srv = await startSecureServer({
    workers: 2,
    limits: { lineTimeoutSeconds: 1 },
  });
  const legitEvents = 600;
  const seed = 20_261_125;
  const report = await runFuzz({
    port: srv.port,
    store: srv.server.store,
    lines: 6_000,
    attackers: 8,
    legitEvents,
    seed,
    rss: () => Deno.memoryUsage().rss,
    timeoutMs: 60_000,
  });
  assert.ok(report.hostileLines >= 6_000, `only ${report.hostileLines} hostile lines sent`);
  assert.deepEqual(fuzzFailures(report, legitEvents, MAX_RSS_BYTES), [], `seed ${seed}`);
});

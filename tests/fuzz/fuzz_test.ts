/**
 * The short form of the hostile-input fuzz for `deno task test`: a few
 * thousand hostile lines and a pre-login flood against a real `nms-server
 * serve` subprocess (so that its RSS and its log are its own) while a
 * legitimate agent sends, some of its lines built to trigger catastrophic
 * backtracking in the loaded rules. `deno task
 * fuzz` runs the long form.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../../server/mod.ts";
import { spawnServerProcess } from "../_harness/server_process.ts";
import {
  FUZZ_SERVER_ARGS,
  fuzzFailures,
  hostileRulesArgs,
  MAX_SERVER_RSS_MIB,
  procRss,
  runFuzz,
} from "./fuzz.ts";

Deno.test("the server survives random, mutated and oversized lines, garbage, half-open connections, resets and a pre-login flood, storing every legitimate event and nothing else, within bounds of memory, disk and log lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-fuzz-test-" });
  try {
    const dbPath = join(dir, "nms.db");
    await using server = await spawnServerProcess({
      args: ["--db", dbPath, ...FUZZ_SERVER_ARGS, ...await hostileRulesArgs(dir)],
    });
    const store = await openSqliteStore(dbPath);
    try {
      const legitEvents = 600;
      const seed = 20_261_125;
      const report = await runFuzz({
        port: server.port,
        store,
        lines: 6_000,
        attackers: 8,
        legitEvents,
        seed,
        rss: () => procRss(server.pid),
        timeoutMs: 60_000,
        loginFlood: { logins: 2_000, addresses: 40, idleSockets: 400 },
        logLines: () => server.stderr().split("\n").length - 1,
        dbPath,
      });
      assert.ok(report.hostileLines >= 6_000, `only ${report.hostileLines} hostile lines sent`);
      assert.ok(report.maxRssBytes > 0, "the server's RSS was read");
      assert.ok(report.floodLogins >= 2_000, `only ${report.floodLogins} flood LOGINs answered`);
      assert.deepEqual(
        fuzzFailures(report, { legitEvents, maxRssBytes: MAX_SERVER_RSS_MIB * 2 ** 20 }),
        [],
        `seed ${seed}`,
      );
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../store/sqlite_store.ts";
import { makeBatch } from "../store/store_conformance.ts";
import { catchUpPauseMs, STATS_CATCH_UP_SHARE, StatsCollector } from "./stats_collector.ts";

Deno.test("StatsCollector counts the last hour and day by severity, host, program, node and failed logins", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-stats-" });
  const store = await openSqliteStore(join(dir, "nms.db"), { sync: "normal" });
  try {
    const now = Date.UTC(2026, 0, 1, 12, 30, 30);
    const minute = 60_000;
    await store.appendEvents([
      makeBatch([
        {
          ts: now - 2 * minute,
          host: "web-01",
          program: "sshd",
          severity: 5,
          message: "Failed password for root",
        },
        {
          ts: now - 2 * minute,
          host: "web-01",
          program: "sshd",
          severity: 6,
          message: "Accepted publickey",
        },
        {
          ts: now - 30 * minute,
          host: "db-01",
          program: "postgres",
          severity: 3,
          message: "ERROR: deadlock",
        },
        {
          ts: now - 5 * 60 * minute,
          host: "db-01",
          program: "postgres",
          severity: 6,
          message: "old",
        },
        {
          ts: now - 2 * 24 * 60 * minute,
          host: "gone",
          program: "x",
          severity: 0,
          message: "too old",
        },
      ], { agentId: 7 }),
    ]);
    const stats = new StatsCollector(store, { now: () => now });
    assert.equal(stats.eventsLastHour(7), null, "unknown before the first read");
    await stats.poll();
    assert.equal(stats.caughtUp, true);

    const hour = stats.summary("hour");
    assert.equal(hour.total, 3);
    assert.equal(hour.bucketMs, minute);
    assert.equal(hour.failedLogins.length, 60);
    assert.equal(hour.failedLogins.reduce((a, b) => a + b, 0), 1);
    assert.equal(hour.perMinuteBySeverity[3]!.reduce((a, b) => a + b, 0), 1);
    assert.deepEqual(hour.topHosts, [{ name: "web-01", count: 2 }, { name: "db-01", count: 1 }]);
    assert.equal(hour.startMs + 59 * minute, Math.floor(now / minute) * minute);

    const day = stats.summary("day");
    assert.equal(day.total, 4);
    assert.equal(day.failedLogins.length, 144);
    assert.deepEqual(day.topPrograms.map((p) => p.name), ["postgres", "sshd"]);
    assert.equal(stats.eventsLastHour(7), 3);
    assert.equal(stats.eventsLastHour(8), 0);

    // New events are picked up incrementally.
    await store.appendEvents([
      makeBatch([{ ts: now, host: "web-02", severity: 4, message: "warn" }]),
    ]);
    assert.equal(await stats.poll(), 1);
    assert.equal(stats.summary("hour").total, 4);
    stats.close();
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("catching up on a backlog pauses after each read so that it takes at most its share of the main thread", () => {
  for (const readMs of [40, 100, 1_000]) {
    const pause = catchUpPauseMs(readMs);
    assert.ok(readMs / (readMs + pause) <= STATS_CATCH_UP_SHARE + 1e-9, `read of ${readMs} ms`);
  }
  // A quick read still leaves the sockets a turn.
  assert.ok(catchUpPauseMs(0) > 0);
});

/**
 * A rule's regex cannot stall the server. Before, the loader refused only
 * nested quantifiers: with `(a|a)+$` loaded, one line of 30 `a` and a `b`
 * stopped every other agent's ACKs for 16 s, doubling per extra `a`. Now a
 * regex V8's linear-time engine cannot run is refused in one line, and the
 * others run in time linear in the line (docs/decisions/0016). Real server,
 * real sockets: one agent floods hostile lines up to 64 KiB while another
 * agent's acknowledgements are timed. The pool hands out batches in fair turns
 * between connections (server/ingest/lane_turns.ts), so the other agent waits
 * for a couple of the flood's batches, not for every batch the flood has
 * queued; both bounds are in the flood's own time per line, measured in the
 * same run, so a loaded machine slows both sides alike.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { MAX_LINE_BYTES } from "../../protocol/mod.ts";
import { LineClient } from "../_harness/line_client.ts";
import { runScript } from "../_harness/run_script.ts";
import { spawnServerProcess } from "../_harness/server_process.ts";

const MAIN = join(import.meta.dirname!, "../../server/main.ts");

/** Most hostile lines the flooding agent sends: it floods until the measurement ends. */
const MAX_HOSTILE_LINES = 20_000;
/** Hostile lines sent before the measurement starts, so the flood fills the pipeline. */
const HEAD_START_LINES = 50;
/** Lines the other agent sends one at a time, timing each acknowledgement. */
const TIMED_LINES = 100;
/**
 * Most time a hostile line may cost the server, in ms (the flood's time per
 * line while it runs). A regex that backtracks exponentially takes seconds on
 * the shortest of them; in linear time they cost a few ms even under load.
 */
const HOSTILE_LINE_LIMIT_MS = 50;
/**
 * The bound on the other agent's median wait, in the flood's own time per
 * line: fair turns make it wait for two or three of the flood's batches (a few
 * dozen lines); queued behind the flood's batches in flight (up to 32 of about
 * 14 lines) it waits for hundreds. The median, not the 99th percentile: on a
 * loaded machine the tail is the scheduler's, not the pool's.
 */
const FAIR_WAIT_FLOOD_LINES = 120;
/** Fewest timed lines for a meaningful median, should the flood reach its end first. */
const MIN_TIMED_LINES = 30;

const rule = (id: number, regex: string) => `
- id: ${id}
  level: 5
  description: "hostile ${id}"
  match: { regex: '${regex}' }
`;

Deno.test("a regex V8's linear-time engine cannot run is refused in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-hostile-regex-" });
  try {
    const file = join(dir, "rules.yaml");
    await Deno.writeTextFile(file, rule(100001, "(a|a)+$") + rule(100002, "^(a+){1,50}$"));
    const result = await runScript(MAIN, ["serve", "--db", join(dir, "nms.db"), "--rules", file]);
    assert.equal(result.code, 2);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0]!,
      /^nms-server: Invalid rules file .*: Invalid rule 100002: match\.regex: cannot run in time linear in the line/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with catastrophic-backtracking regexes loaded, hostile lines up to 64 KiB do not delay another agent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-hostile-regex-" });
  try {
    const file = join(dir, "rules.yaml");
    await Deno.writeTextFile(
      file,
      rule(100001, "(a|a)+$") + rule(100002, "(a+)+$") + rule(100003, "(x+x+)+y"),
    );
    await using server = await spawnServerProcess({
      // One pool worker, the default on 2 CPUs: both agents' batches go through it.
      args: ["--db", join(dir, "nms.db"), "--workers", "1", "--rules", file],
    });
    const login = async () => {
      const client = await LineClient.connect(server.port);
      await client.readLine();
      await client.send("LOGIN admin admin");
      assert.equal(await client.readLine(), "ACK OK Login successful");
      return client;
    };
    await using attacker = await login();
    await using agent = await login();
    // 30 a's and a b took 16 s before; here every size up to the line limit.
    const room = MAX_LINE_BYTES - "BATCH_EVENT ".length - 1;
    const sizes = [31, 1024, 8192, room];
    const hostile = (i: number) => {
      const n = sizes[i % sizes.length]!;
      return (i % 2 === 0 ? "a" : "x").repeat(n - 1) + "b";
    };
    // The flooding agent pipelines without waiting for its ACKs (TCP alone holds it back).
    let flooding = true;
    let sent = 0;
    let acked = 0;
    const flood = (async () => {
      while (flooding && sent < MAX_HOSTILE_LINES) {
        const batch = Array.from({ length: 8 }, (_, k) => `BATCH_EVENT ${hostile(sent + k)}`);
        await attacker.send(batch.join("\n"));
        sent += batch.length;
      }
    })();
    const acks = (async () => {
      while (acked < sent || flooding) {
        if (acked === sent) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        assert.equal(await attacker.readLine(), "ACK OK Event received");
        acked++;
      }
    })();
    try {
      // Let the flood fill the pipeline first.
      while (acked < HEAD_START_LINES) await new Promise((r) => setTimeout(r, 10));
      const latencies: number[] = [];
      const start = performance.now();
      const ackedBefore = acked;
      for (let i = 0; i < TIMED_LINES && sent < MAX_HOSTILE_LINES; i++) {
        const start = performance.now();
        await agent.send(`BATCH_EVENT Nov 23 19:43:33 web-01 app[1]: request ${i} served`);
        assert.equal(await agent.readLine(), "ACK OK Event received");
        latencies.push(performance.now() - start);
      }
      const floodLineMs = (performance.now() - start) / (acked - ackedBefore);
      assert.ok(sent > acked, "the flood ran during the measurement");
      latencies.sort((a, b) => a - b);
      const median = latencies[Math.floor(latencies.length / 2)]!;
      const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
      const figures = `the other agent's ACK median is ${median.toFixed(1)} ms (p99 ${
        p99.toFixed(1)
      } ms, ${latencies.length} lines); the flood took ${
        floodLineMs.toFixed(2)
      } ms per hostile line`;
      assert.ok(latencies.length >= MIN_TIMED_LINES, figures);
      assert.ok(floodLineMs < HOSTILE_LINE_LIMIT_MS, figures);
      assert.ok(median < FAIR_WAIT_FLOOD_LINES * floodLineMs, figures);
    } finally {
      flooding = false;
      await flood;
      await acks;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

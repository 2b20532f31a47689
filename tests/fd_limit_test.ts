/**
 * The agent connection limit follows the server's file-descriptor limit:
 * the server runs under `prlimit` with a low limit, and the default
 * `--max-connections` shrinks with it, while an explicit one above it gets a
 * start-up warning (server/agent_port/fd_limit.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnServerProcess } from "./_harness/server_process.ts";

/** The descriptor limit the servers run under: enough for a server, far below a fleet. */
const LOW_FD_LIMIT = 600;

async function hasPrlimit(): Promise<boolean> {
  try {
    const out = await new Deno.Command("prlimit", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const ignore = Deno.build.os !== "linux" || !await hasPrlimit();

/** Starts `serve` under {@linkcode LOW_FD_LIMIT} with `args` and a fresh database; returns its stderr once it listens. */
async function stderrUnderLowLimit(args: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nms-fd-limit-" });
  try {
    await using server = await spawnServerProcess({
      wrapper: ["prlimit", `--nofile=${LOW_FD_LIMIT}:${LOW_FD_LIMIT}`],
      args: ["--db", join(dir, "nms.db"), ...args],
    });
    return server.stderr();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "serve derives --max-connections from the file-descriptor limit",
  ignore,
  async fn() {
    const stderr = await stderrUnderLowLimit([]);
    assert.match(stderr, /Listening for agents .*maxConnections=344\b/);
    assert.doesNotMatch(stderr, /File-descriptor limit/);
  },
});

Deno.test({
  name: "serve warns in one line when --max-connections is above what the descriptor limit holds",
  ignore,
  async fn() {
    const stderr = await stderrUnderLowLimit(["--max-connections", "20000"]);
    const warnings = stderr.split("\n").filter((l) => l.includes("File-descriptor limit"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /limit 600 holds 344 agent connections, not the 20000/);
    assert.match(stderr, /Listening for agents .*maxConnections=20000\b/);
  },
});

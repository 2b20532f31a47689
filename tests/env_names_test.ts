/**
 * One environment, two binaries: a host or a compose file often sets `NMS_*`
 * variables for both nms-server and nms-agent, so a variable both read must
 * mean the same to both. For every name the two option tables share, each
 * sample value is accepted by both binaries or refused by both
 * (`NMS_LOG_LEVEL=silent` once ran the agent and stopped the server).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type FlagSpec, RUN_FLAGS, RUN_OPERATIONS_FLAGS } from "../agent/config.ts";
import { SERVE_OPTIONS, type ServeOptionSpec } from "../server/config.ts";
import { ADMIN_PASSWORD_ENV } from "../server/config.ts";
import { CONFIG_ENV } from "../server/cli/ops_commands.ts";
import { PASSWORD_ENV } from "../agent/config.ts";

/** Values tried on every shared variable. */
const SAMPLES = [
  "",
  "0",
  "0.5",
  "1",
  "2.5",
  "30",
  "86400",
  "86401",
  "-1",
  "x",
  "silent",
  "debug",
  "info",
  "warn",
  "error",
  "text",
  "json",
  "yaml",
];

function serverAccepts(spec: ServeOptionSpec, value: string): boolean {
  if (spec.choices && !spec.choices.includes(value)) return false;
  try {
    spec.parse?.(value);
    return true;
  } catch {
    return false;
  }
}

function agentAccepts(spec: FlagSpec, value: string): boolean {
  if (spec.choices && !spec.choices.includes(value)) return false;
  return spec.problem?.(value) === undefined;
}

const serverByEnv = new Map(
  (Object.values(SERVE_OPTIONS) as ServeOptionSpec[]).filter((s) => s.env).map((s) => [s.env!, s]),
);
const agentByEnv = new Map(
  ([...Object.values(RUN_FLAGS), ...Object.values(RUN_OPERATIONS_FLAGS)] as FlagSpec[])
    .filter((s) => s.env).map((s) => [s.env!, s]),
);

Deno.test("every NMS_* variable both binaries read accepts the same values in both", () => {
  const shared = [...serverByEnv.keys()].filter((name) => agentByEnv.has(name));
  assert.deepEqual(shared.sort(), ["NMS_HEARTBEAT", "NMS_LOG_FORMAT", "NMS_LOG_LEVEL"]);
  for (const name of shared) {
    for (const value of SAMPLES) {
      assert.equal(
        serverAccepts(serverByEnv.get(name)!, value),
        agentAccepts(agentByEnv.get(name)!, value),
        `${name}=${JSON.stringify(value)}`,
      );
    }
  }
});

Deno.test("the variables only one binary reads have names of their own", () => {
  const own = [ADMIN_PASSWORD_ENV, CONFIG_ENV, PASSWORD_ENV, RUN_OPERATIONS_FLAGS.config.env];
  assert.equal(new Set(own).size, own.length);
  for (const name of [ADMIN_PASSWORD_ENV, CONFIG_ENV]) assert.ok(!agentByEnv.has(name), name);
  for (const name of [PASSWORD_ENV, RUN_OPERATIONS_FLAGS.config.env]) {
    assert.ok(!serverByEnv.has(name), name);
  }
});

import assert from "node:assert/strict";
import { CommanderError } from "@commander-js/extra-typings";
import { buildProgram } from "./program.ts";
import { RUN_FLAGS } from "../config.ts";
import { DEFAULT_METRICS_HOSTNAME } from "../metrics_server.ts";
import {
  AGENT_CONFIG_ENV,
  AGENT_FLAG_ENV,
  LOG_FORMAT_ENV,
  METRICS_HOST_ENV,
  METRICS_PORT_ENV,
  parseRunArgv,
} from "./run_argv.ts";
import type { AgentRunFlags } from "./run_command.ts";

/** The operations flags cli_ops.ts adds to `run`, with their environment variables. */
const OPS_FLAGS: Record<string, string> = {
  "--log-format": LOG_FORMAT_ENV,
  "--metrics-port": METRICS_PORT_ENV,
  "--metrics-host": METRICS_HOST_ENV,
};

/** Two valid values per flag that takes one; any text for the others. */
const SAMPLES: Record<string, [string, string]> = {
  "--heartbeat": ["15", "2.5"],
  "--log-level": ["warn", "debug"],
  "--log-format": ["json", "text"],
  "--metrics-port": ["9101", "0"],
  "--metrics-host": ["0.0.0.0", "::1"],
  "--min-severity": ["err", "4"],
  "--max-open-files": ["64", "2048"],
};

/** Every long flag the light parser must know, and whether it takes a value. */
function allFlags(): [string, boolean][] {
  return [
    ...Object.values(RUN_FLAGS).map((spec): [string, boolean] => [
      spec.flags.split(" ")[0]!,
      spec.flags.includes("<"),
    ]),
    ...Object.keys(OPS_FLAGS).map((long): [string, boolean] => [long, true]),
  ];
}

function samples(long: string): [string, string] {
  return SAMPLES[long] ?? [`${long.slice(2)}-a`, `${long.slice(2)}-b`];
}

/** What commander's `run` passes to its action for these arguments. */
async function viaCommander(args: string[]): Promise<AgentRunFlags> {
  let parsed: AgentRunFlags | undefined;
  const program = buildProgram(() => {}, {
    run: (flags) => {
      parsed = flags;
      return Promise.resolve(0);
    },
  });
  await program.parseAsync(args, { from: "user" });
  assert.ok(parsed, `commander did not run: ${args.join(" ")}`);
  return parsed;
}

/** Asserts that the light parser handles the arguments and agrees with commander. */
async function assertSameAsCommander(args: string[]): Promise<void> {
  const light = parseRunArgv(args, (name) => Deno.env.get(name));
  assert.ok(light, `the light parser gave up on: ${args.join(" ")}`);
  assert.deepEqual(light, await viaCommander(args), args.join(" "));
}

/** Runs `body` with NMS_* variables set, restoring the environment after. */
async function withEnv(vars: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const before = Object.keys(vars).map((name) => [name, Deno.env.get(name)] as const);
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    await body();
  } finally {
    for (const [name, value] of before) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}

Deno.test("parseRunArgv() gives what commander gives for every flag, repeated, in both forms", async () => {
  for (const [long, takesValue] of allFlags()) {
    if (!takesValue) {
      await assertSameAsCommander(["run", long, long]);
      continue;
    }
    const [a, b] = samples(long);
    await assertSameAsCommander(["run", long, a, long, b]);
    await assertSameAsCommander(["run", `${long}=${a}`, `${long}=${b}`]);
  }
});

Deno.test("parseRunArgv() gives what commander gives for a full command line and for defaults", async () => {
  await assertSameAsCommander(["run"]);
  await assertSameAsCommander([
    "run",
    "--server",
    "logs-a.example.com:8080",
    "--server",
    "logs-b.example.com",
    "--token-file",
    "/etc/nms/token",
    "--tls",
    "--ca-file",
    "/etc/nms/ca.pem",
    "--path",
    "/var/log/syslog",
    "--path=/var/log/*.log",
    "--exclude",
    "*.gz",
    "--journal-unit",
    "ssh.service",
    "--include",
    "a=b",
    "--exclude-line",
    "",
    "--state-dir",
    "/var/lib/nms-agent",
    "--heartbeat",
    "10",
    "--log-level",
    "debug",
    "--log-format",
    "json",
    "--metrics-port",
    "9101",
  ]);
  const light = parseRunArgv(["run"], () => undefined);
  assert.equal(light?.metricsHost, DEFAULT_METRICS_HOSTNAME);
});

Deno.test("parseRunArgv() applies environment variables below flags, as commander does", async () => {
  const envOf: Record<string, string> = { ...AGENT_FLAG_ENV, ...OPS_FLAGS };
  for (const [long, env] of Object.entries(envOf)) {
    const [a, b] = samples(long);
    await withEnv({ [env]: a }, async () => {
      await assertSameAsCommander(["run", "--path", "/x"]);
      await assertSameAsCommander(["run", "--path", "/x", long, b]);
    });
  }
  // An invalid variable under a valid flag is never read.
  await withEnv(
    { NMS_HEARTBEAT: "never" },
    () => assertSameAsCommander(["run", "--heartbeat", "5"]),
  );
  await withEnv({ NMS_USER: "" }, () => assertSameAsCommander(["run"]));
});

Deno.test("parseRunArgv() leaves help, other commands, config files, unknown flags and bad values to commander", async () => {
  const cases: string[][] = [
    [],
    ["version"],
    ["--version"],
    ["config", "check"],
    ["run", "--help"],
    ["run", "-h"],
    ["run", "--config", "/etc/nms/agent.yaml"],
    ["run", "-c", "/etc/nms/agent.yaml"],
    ["run", "--bogus"],
    ["run", "--path"],
    ["run", "--user", "--path", "/x"],
    ["run", "--path", "-"],
    ["run", "operand"],
    ["run", "--", "--path", "/x"],
    ["run", "--tls=yes"],
    ["run", "--=x"],
    ["run", "--heartbeat", "0"],
    ["run", "--heartbeat", "1e3"],
    ["run", "--log-level", "loud"],
    ["run", "--log-format", "xml"],
    ["run", "--metrics-port", "65536"],
    ["run", "--metrics-port", "-1"],
    ["run", "--max-open-files", "0"],
    ["run", "--max-open-files", "many"],
    [" run"],
  ];
  for (const args of cases) {
    assert.equal(parseRunArgv(args, () => undefined), undefined, JSON.stringify(args));
  }
  const env: Record<string, string> = {
    [AGENT_CONFIG_ENV]: "/etc/nms/agent.yaml",
    NMS_HEARTBEAT: "0",
    NMS_LOG_LEVEL: "loud",
    [LOG_FORMAT_ENV]: "xml",
    [METRICS_PORT_ENV]: "x",
    NMS_MAX_OPEN_FILES: "0",
  };
  for (const [name, value] of Object.entries(env)) {
    const getEnv = (n: string) => n === name ? value : undefined;
    assert.equal(parseRunArgv(["run", "--path", "/x"], getEnv), undefined, `${name}=${value}`);
  }
  // Commander rejects the same values, so its message is the one the user sees.
  await withEnv({ NMS_HEARTBEAT: "0" }, async () => {
    const program = buildProgram(() => {}, { run: () => Promise.resolve(0) });
    program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    program.commands.forEach((c) => c.configureOutput({ writeErr: () => {}, writeOut: () => {} }));
    await assert.rejects(
      program.parseAsync(["run", "--path", "/x"], { from: "user" }),
      CommanderError,
    );
  });
});

/**
 * The configuration file loader: precedence, validation, masking.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import {
  applyConfigValues,
  ConfigFileError,
  configKeys,
  effectiveConfig,
  formatEffectiveConfig,
  readConfigFile,
} from "./config_file.ts";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError("expected an integer from 0 to 65535");
  }
  return n;
}

/** A `serve`-like command; `parse` runs it with flags and an environment. */
function serveCommand() {
  const command = new Command("serve")
    .exitOverride()
    .addOption(new Option("-c, --config <file>", "configuration file"))
    .addOption(new Option("--port <port>", "port").env("T_PORT").argParser(port).default(8080))
    .addOption(new Option("--host <address>", "address").env("T_HOST").default("0.0.0.0"))
    .addOption(new Option("--sync <mode>", "sync").choices(["full", "normal"]).default("full"))
    .addOption(new Option("--store <url>", "store").env("T_STORE"))
    .addOption(new Option("--admin-password <text>", "a secret"))
    .option("--plain-agents", "a flag")
    .option("--no-builtin-rules", "a negated flag");
  return command;
}

async function withFile(text: string, work: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-config-" });
  try {
    const path = join(dir, "nms-server.yaml");
    await Deno.writeTextFile(path, text);
    await work(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Parses `args` with `env` set, applies the file, returns the options. */
async function parse(args: string[], env: Record<string, string>, file: string) {
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    const command = serveCommand();
    command.parse(args, { from: "user" });
    applyConfigValues(command, await readConfigFile(file, configKeys(command)));
    return { command, options: command.opts() };
  } finally {
    for (const k of Object.keys(env)) Deno.env.delete(k);
  }
}

Deno.test("applyConfigValues() gives flag > environment > file > default", async () => {
  await withFile("port: 9000\nhost: 10.0.0.1\nsync: normal\n", async (file) => {
    const fileOnly = await parse([], {}, file);
    assert.deepEqual([fileOnly.options.port, fileOnly.options.host], [9000, "10.0.0.1"]);
    const env = await parse([], { T_PORT: "9100" }, file);
    assert.equal(env.options.port, 9100);
    assert.equal(env.options.host, "10.0.0.1");
    const flag = await parse(["--port", "9200"], { T_PORT: "9100" }, file);
    assert.equal(flag.options.port, 9200);
    assert.equal(flag.options.sync, "normal");
    const none = serveCommand();
    none.parse([], { from: "user" });
    assert.equal(none.opts().port, 8080);
    const sources = effectiveConfig(flag.command, configKeys(flag.command));
    assert.deepEqual(
      sources.filter((s) => ["port", "host", "sync"].includes(s.key)).map((s) => s.source),
      ["flag", "file", "file"],
    );
  });
});

Deno.test("readConfigFile() takes booleans for flags, positive keys for negated flags", async () => {
  await withFile("plain-agents: true\nbuiltin-rules: false\n", async (file) => {
    const { options } = await parse([], {}, file);
    assert.equal(options.plainAgents, true);
    assert.equal(options.builtinRules, false);
  });
});

Deno.test("readConfigFile() reports each unknown key and bad value with file, line and type", async () => {
  await withFile(
    "prot: 9000\nport: 70000\nsync: always\nplain-agents: yes please\nhost: {a: 1}\n",
    async (file) => {
      const keys = configKeys(serveCommand());
      const error = await readConfigFile(file, keys).then(
        () => assert.fail("accepted a bad file"),
        (e) => e,
      );
      assert.ok(error instanceof ConfigFileError);
      assert.deepEqual(error.errors, [
        `${file}:1: unknown key "prot" (did you mean "port"?)`,
        `${file}:2: key "port": expected an integer from 0 to 65535 (got 70000)`,
        `${file}:3: key "sync": expected one of full, normal (got "always")`,
        `${file}:4: key "plain-agents": expected true or false (got "yes please")`,
        `${file}:5: key "host": expected text (got {"a":1})`,
      ]);
    },
  );
});

Deno.test("readConfigFile() rejects YAML syntax errors, non-mappings and missing files", async () => {
  await withFile("port: [1, 2\n", async (file) => {
    await assert.rejects(readConfigFile(file, configKeys(serveCommand())), /invalid YAML/);
  });
  await withFile("- port\n", async (file) => {
    await assert.rejects(readConfigFile(file, configKeys(serveCommand())), /expected a mapping/);
  });
  await withFile("port: 1\nport: 2\n", async (file) => {
    await assert.rejects(readConfigFile(file, configKeys(serveCommand())), /unique/);
  });
  await assert.rejects(
    readConfigFile("/nonexistent/nms.yaml", configKeys(serveCommand())),
    /Cannot read configuration file \/nonexistent\/nms.yaml: no such file/,
  );
});

Deno.test("formatEffectiveConfig() masks secrets and URL passwords", async () => {
  await withFile(
    "store: postgres://nms:hunter2@db:5432/nms\nadmin-password: hunter2\n",
    async (file) => {
      const { command } = await parse([], {}, file);
      const text = formatEffectiveConfig(effectiveConfig(command, configKeys(command)));
      assert.doesNotMatch(text, /hunter2/);
      assert.match(text, /store: "postgres:\/\/nms:\*{8}@db:5432\/nms" +# file/);
      assert.match(text, /admin-password: "\*{8}" +# file/);
      assert.match(text, /port: 8080 +# default/);
    },
  );
});

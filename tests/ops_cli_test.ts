/**
 * The operations commands of both binaries as an administrator runs them
 * : `--version`, `config check` with a configuration file,
 * environment variables and flags, one error per bad key, and `nms-server
 * backup` of a database in use.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { silentLogger, startServer } from "../server/mod.ts";
import { openSqliteStore } from "../server/store/sqlite_store.ts";
import { LineClient } from "./_harness/line_client.ts";
import { runScript } from "./_harness/run_script.ts";

const SERVER_MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));
const AGENT_MAIN = fileURLToPath(new URL("../agent/main.ts", import.meta.url));

async function withDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-ops-cli-" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("nms-server --version and nms-agent --version print the version and the commit", async () => {
  const server = await runScript(SERVER_MAIN, ["--version"]);
  assert.equal(server.code, 0);
  assert.match(server.stdout, /^nms-server \d+\.\d+\.\d+\S* \(commit [0-9A-Za-z._-]+\)\n$/);
  const agent = await runScript(AGENT_MAIN, ["--version"]);
  assert.equal(agent.code, 0);
  assert.match(
    agent.stdout,
    /^nms-agent \d+\.\d+\.\d+\S* \(commit [0-9A-Za-z._-]+, protocol \d+\)\n$/,
  );
});

Deno.test("nms-server config check prints flag > env > file > default with secrets masked", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "nms-server.yaml");
    await Deno.writeTextFile(
      file,
      [
        "port: 9000",
        "http-port: 9001",
        "retention-days: 30",
        "max-db-size: 2GB",
        "text-index-max-catchup: 1.5",
        "store: postgres://nms:hunter2@db.internal:5432/nms",
        "alert-webhook: https://hooks.example.com/services/T0/B0/hunter2",
      ].join("\n") + "\n",
    );
    const result = await runScript(
      SERVER_MAIN,
      ["config", "check", "--config", file, "--http-port", "9101"],
      { NMS_PORT: "9100", NMS_ADMIN_PASSWORD: "hunter2" },
    );
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout;
    assert.doesNotMatch(text, /hunter2/);
    assert.match(text, /^port: 9100 +# env NMS_PORT$/m);
    assert.match(text, /^http-port: 9101 +# flag$/m);
    assert.match(text, /^retention-days: 30 +# file$/m);
    assert.match(text, /^max-db-size: 2000000000 +# file$/m);
    assert.match(text, /^sync: "full" +# default$/m);
    assert.match(text, /^text-index-max-catchup: 1.5 +# file$/m);
    assert.match(text, /^text-index-max-lag: 1000000 +# default$/m);
    assert.match(text, /^store: "postgres:\/\/nms:\*+@db\.internal:5432\/nms" +# file$/m);
    assert.match(text, /^alert-webhook: "\*+" +# file$/m);
    assert.match(text, /NMS_ADMIN_PASSWORD\): set, \*+/);
  });
});

Deno.test("nms-server serve --config reports every bad key with file, line and expected type", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "nms-server.yaml");
    await Deno.writeTextFile(
      file,
      "port: 8080\nretention-dayz: 30\nmax-db-size: lots\ntext-index-max-catchup: soon\n",
    );
    const result = await runScript(SERVER_MAIN, [
      "serve",
      "--config",
      file,
      "--db",
      join(dir, "x.db"),
    ]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.deepEqual(result.stderr.trimEnd().split("\n"), [
      `nms-server: ${file}:2: unknown key "retention-dayz" (did you mean "retention-days"?)`,
      `nms-server: ${file}:3: key "max-db-size": expected a size such as 500MB, 2GB or 1GiB (got "lots")`,
      `nms-server: ${file}:4: key "text-index-max-catchup": expected a number from 0 to 3600 (got "soon")`,
    ]);
    // Nothing was started or created.
    await assert.rejects(Deno.stat(join(dir, "x.db")), Deno.errors.NotFound);
  });
});

Deno.test("nms-server backup copies a database in use and never overwrites a file", async () => {
  await withDir(async (dir) => {
    const dbPath = join(dir, "nms.db");
    await using server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      dbPath,
      workers: 1,
      adminPassword: "admin",
      log: silentLogger,
    });
    const client = await LineClient.connect(server.addr.port);
    try {
      await client.readLine();
      await client.send("LOGIN admin admin");
      await client.readLine();
      const lines = Array.from({ length: 500 }, (_, i) => `BATCH_EVENT backup test ${i}\n`);
      await client.sendRaw(new TextEncoder().encode(lines.join("")));
      await client.readLines(500);
      // Keep writing while the copy is made.
      const writing = client.sendRaw(new TextEncoder().encode(lines.join("")));
      const config = join(dir, "nms-server.yaml");
      await Deno.writeTextFile(config, `db: ${JSON.stringify(dbPath)}\n`);
      const target = join(dir, "backup.db");
      const result = await runScript(SERVER_MAIN, ["backup", target, "--config", config]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Backed up ${dbPath} to ${target} \\(`));
      await writing;
      await client.readLines(500);
      const copy = await openSqliteStore(target);
      try {
        assert.ok(await copy.countEvents({ contains: "backup test" }) >= 500);
        assert.equal((await copy.listUsers())[0]?.username, "admin");
      } finally {
        await copy.close();
      }
      const again = await runScript(SERVER_MAIN, ["backup", target, "--db", dbPath]);
      assert.equal(again.code, 1);
      assert.equal(again.stderr, `nms-server: Cannot back up to ${target}: the file exists\n`);
    } finally {
      client.close();
    }
  });
});

Deno.test("nms-agent config check applies flag > env > file and rejects unknown keys", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "nms-agent.yaml");
    await Deno.writeTextFile(
      file,
      "server: logs.example.com:8080\nuser: bob\npath:\n  - /var/log/syslog\n  - /var/log/auth.log\n" +
        "heartbeat: 10\nlog-format: json\nmetrics-port: 9101\n",
    );
    const ok = await runScript(
      AGENT_MAIN,
      ["config", "check", "--config", file, "--heartbeat", "20"],
      { NMS_USER: "alice" },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^server: "logs\.example\.com:8080" +# file$/m);
    assert.match(ok.stdout, /^user: "alice" +# env NMS_USER$/m);
    assert.match(ok.stdout, /^heartbeat: "20" +# flag$/m);
    assert.match(ok.stdout, /^path: \["\/var\/log\/syslog","\/var\/log\/auth\.log"\] +# file$/m);
    assert.match(ok.stdout, /^metrics-port: 9101 +# file$/m);
    assert.match(ok.stdout, /^log-level: "info" +# default$/m);

    await Deno.writeTextFile(file, "server: a:1\nsever: b:2\nheartbeat: 0\n");
    const bad = await runScript(AGENT_MAIN, ["run", "--config", file]);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.stderr.trimEnd().split("\n"), [
      `nms-agent: ${file}:2: unknown key "sever" (did you mean "server"?)`,
      `nms-agent: ${file}:3: key "heartbeat": expected seconds from 1 to 86400 (got 0)`,
    ]);
  });
});

for (const [name, main] of [["nms-server", SERVER_MAIN], ["nms-agent", AGENT_MAIN]] as const) {
  Deno.test(`docs/${name}.example.yaml is valid and shows every key of config keys`, async () => {
    const example = fileURLToPath(new URL(`../docs/${name}.example.yaml`, import.meta.url));
    const check = await runScript(main, ["config", "check", "--config", example]);
    assert.equal(check.code, 0, check.stderr);
    const keys = (await runScript(main, ["config", "keys"])).stdout.split("\n")
      .map((row) => /^\| `([a-z0-9-]+)` \|/.exec(row)?.[1])
      .filter((key) => key !== undefined);
    assert.ok(keys.length > 5, "config keys lists the keys");
    const text = await Deno.readTextFile(example);
    const missing = keys.filter((key) => !new RegExp(`^(# )?${key}:`, "m").test(text));
    assert.deepEqual(missing, [], `document these keys in docs/${name}.example.yaml`);
  });
}

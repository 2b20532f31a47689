import assert from "node:assert/strict";
import { join } from "node:path";
import { buildAgentConfig, ConfigError, parseServerAddress, readPasswordFile } from "./config.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-config-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

const noEnv = () => undefined;

Deno.test("parseServerAddress() accepts host:port, a bare host and bracketed IPv6", () => {
  assert.deepEqual(parseServerAddress("logs.example.com:9000"), {
    hostname: "logs.example.com",
    port: 9000,
  });
  assert.deepEqual(parseServerAddress("10.0.0.5"), { hostname: "10.0.0.5", port: 8080 });
  assert.deepEqual(parseServerAddress("[::1]:8081"), { hostname: "::1", port: 8081 });
  assert.deepEqual(parseServerAddress("[fe80::1]"), { hostname: "fe80::1", port: 8080 });
});

Deno.test("parseServerAddress() rejects malformed addresses with ConfigError", () => {
  for (
    const bad of ["", ":80", "host:", "host:0", "host:65536", "host:8o", "::1:80", "[::1", "a b:1"]
  ) {
    assert.throws(() => parseServerAddress(bad), ConfigError, bad);
  }
});

Deno.test("readPasswordFile() strips one trailing line break", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "pw");
  await Deno.writeTextFile(path, "pass with spaces\r\n");
  assert.equal(await readPasswordFile(path), "pass with spaces");
});

Deno.test("readPasswordFile() names the file in its errors", async () => {
  await using dir = await tempDir();
  const missing = join(dir.path, "missing");
  await assert.rejects(() => readPasswordFile(missing), /password file .*missing: no such file/);
  const empty = join(dir.path, "empty");
  await Deno.writeTextFile(empty, "\n");
  await assert.rejects(() => readPasswordFile(empty), /Empty password/);
  const twoLines = join(dir.path, "two");
  await Deno.writeTextFile(twoLines, "a\nb\n");
  await assert.rejects(() => readPasswordFile(twoLines), /must be one line/);
  await assert.rejects(() => readPasswordFile(dir.path), /not a file/);
});

Deno.test("buildAgentConfig() takes the password from NMS_PASSWORD when no file is given", async () => {
  const config = await buildAgentConfig(
    { server: "h:1", user: "u", path: ["/var/log/syslog"] },
    (name) => (name === "NMS_PASSWORD" ? "from env" : undefined),
  );
  assert.equal(config.password, "from env");
  assert.equal(config.heartbeatSeconds, 30);
  assert.equal(config.logLevel, "info");
  assert.equal(config.stateDir, undefined);
  assert.equal(config.maxOpenFiles, 512);
});

Deno.test("buildAgentConfig() reports each invalid value as a ConfigError naming the flag", async () => {
  const base = { server: "h:1", user: "u", path: ["/x"] };
  const env = () => "pw";
  const cases: [Record<string, unknown>, RegExp, (name: string) => string | undefined][] = [
    [{ ...base, server: undefined }, /Missing --server/, env],
    [{ ...base, user: "two words" }, /Invalid --user/, env],
    [{ ...base, path: [] }, /Missing --path/, env],
    [{ ...base, heartbeat: "0" }, /Invalid --heartbeat/, env],
    [{ ...base, heartbeat: "ten" }, /Invalid --heartbeat/, env],
    [{ ...base, logLevel: "loud" }, /Invalid --log-level/, env],
    [{ ...base, maxOpenFiles: "0" }, /Invalid --max-open-files "0": expected an integer/, env],
    [{ ...base, path: ["/var/log/**.log"] }, /Invalid --path .*whole path component/, env],
    [{ ...base, exclude: ["**.gz"] }, /Invalid --exclude .*whole path component/, env],
    [{ ...base, path: ["/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}"] }, /more than 256/, env],
    [base, /Missing password/, noEnv],
  ];
  for (const [flags, expected, getEnv] of cases) {
    await assert.rejects(() => buildAgentConfig(flags, getEnv), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, expected);
      return true;
    });
  }
});

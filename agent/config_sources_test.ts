import assert from "node:assert/strict";
import { buildAgentConfig, ConfigError, parseServerList } from "./config.ts";

const env = (name: string) => (name === "NMS_PASSWORD" ? "secret" : undefined);
const base = { server: "a.example:8080", user: "agent", path: ["/var/log/syslog"] };

Deno.test("parseServerList() splits comma-separated servers, in order, without duplicates", () => {
  assert.deepEqual(parseServerList("a.example:8080, b.example:9000,,a.example:8080,[::1]"), [
    { hostname: "a.example", port: 8080 },
    { hostname: "b.example", port: 9000 },
    { hostname: "::1", port: 8080 },
  ]);
  assert.throws(() => parseServerList(" , "), ConfigError);
  assert.throws(() => parseServerList("a:1,b:x"), /Invalid --server "b:x"/);
  const many = Array.from({ length: 17 }, (_, i) => `h${i}:1`).join(",");
  assert.throws(() => parseServerList(many), /at most 16/);
});

Deno.test("buildAgentConfig() keeps the first --server as primary and the rest for failover", async () => {
  const config = await buildAgentConfig({ ...base, server: "a.example:8080,b.example:8081" }, env);
  assert.equal(config.hostname, "a.example");
  assert.equal(config.port, 8080);
  assert.deepEqual(config.failoverServers, [{ hostname: "b.example", port: 8081 }]);
  assert.equal(config.journal, undefined);
  assert.equal(config.filter, undefined);
  assert.deepEqual(config.exclude, []);
});

Deno.test("buildAgentConfig() accepts --journal without --path, and --journal-unit implies it", async () => {
  const journal = await buildAgentConfig({ ...base, path: [], journal: true }, env);
  assert.deepEqual(journal.journal, { units: [] });
  const unit = await buildAgentConfig({ ...base, journalUnit: ["ssh.service", "nginx@*"] }, env);
  assert.deepEqual(unit.journal, { units: ["ssh.service", "nginx@*"] });
  await assert.rejects(buildAgentConfig({ ...base, path: [] }, env), /Missing --path/);
  for (const bad of ["-x", "a b", "", "unit;rm"]) {
    await assert.rejects(
      buildAgentConfig({ ...base, journalUnit: [bad] }, env),
      /Invalid --journal-unit/,
      bad,
    );
  }
});

Deno.test("buildAgentConfig() compiles --include/--exclude-line and parses --min-severity", async () => {
  const config = await buildAgentConfig({
    ...base,
    include: ["sshd|sudo"],
    excludeLine: ["healthz"],
    minSeverity: "warning",
    exclude: ["*.gz"],
  }, env);
  assert.deepEqual(config.filter?.include.map((r) => r.source), ["sshd|sudo"]);
  assert.deepEqual(config.filter?.exclude.map((r) => r.source), ["healthz"]);
  assert.equal(config.filter?.minSeverity, 4);
  assert.deepEqual(config.exclude, ["*.gz"]);
  await assert.rejects(
    buildAgentConfig({ ...base, include: ["(unclosed"] }, env),
    /^ConfigError: Invalid --include "\(unclosed": /,
  );
  await assert.rejects(
    buildAgentConfig({ ...base, minSeverity: "loud" }, env),
    /Invalid --min-severity "loud": expected emerg, alert/,
  );
});

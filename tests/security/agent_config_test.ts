/**
 * The agent's security flags: `--token-file` (the token variant of
 * LOGIN) and the TLS options, validated into its configuration.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildAgentConfig, ConfigError } from "../../agent/config.ts";

const TOKEN = "nms_0123456789ab_" + "A".repeat(43);

Deno.test("buildAgentConfig() turns --token-file into LOGIN @token and --ca-file into TLS", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tokenFile = join(dir, "token");
    const ca = join(dir, "ca.pem");
    await Deno.writeTextFile(tokenFile, TOKEN + "\n");
    await Deno.writeTextFile(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const config = await buildAgentConfig(
      { server: "logs.example.com:8443", tokenFile, caFile: ca, path: ["/var/log/syslog"] },
      () => undefined,
    );
    assert.equal(config.username, "@token");
    assert.equal(config.password, TOKEN);
    assert.equal(config.tls?.caCerts?.length, 1);
    const plain = await buildAgentConfig(
      { server: "h", user: "u", path: ["/x"] },
      () => "pw",
    );
    assert.equal(plain.tls, undefined);
    const system = await buildAgentConfig(
      { server: "h", user: "u", path: ["/x"], tls: true },
      () => "pw",
    );
    assert.deepEqual(system.tls, {}, "--tls alone: the system's roots");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildAgentConfig() refuses a malformed token, --token-file with --user, and a client cert without key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = join(dir, "bad");
    await Deno.writeTextFile(bad, "hunter2\n");
    const good = join(dir, "good");
    await Deno.writeTextFile(good, TOKEN);
    const base = { server: "h", path: ["/x"] };
    await assert.rejects(
      buildAgentConfig({ ...base, tokenFile: bad }, () => undefined),
      (e) => e instanceof ConfigError && /Invalid token in/.test(e.message),
    );
    await assert.rejects(
      buildAgentConfig({ ...base, tokenFile: good, user: "u" }, () => undefined),
      ConfigError,
    );
    await assert.rejects(
      buildAgentConfig({ ...base, user: "u", clientCert: good }, () => "pw"),
      (e) => e instanceof ConfigError && /go together/.test(e.message),
    );
    await assert.rejects(
      buildAgentConfig({ ...base, user: "u", caFile: good }, () => "pw"),
      (e) => e instanceof ConfigError && /not PEM/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

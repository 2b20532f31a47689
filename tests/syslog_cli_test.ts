/**
 * The syslog flags and the `sources` command of nms-server, as a user runs them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

const MAIN = join(import.meta.dirname!, "../server/main.ts");
const decoder = new TextDecoder();

async function nmsServer(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("nms-server serve rejects an invalid --syslog-allow with one line and exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-syslog-cli-" });
  try {
    const result = await nmsServer(
      "serve",
      "--db",
      join(dir, "nms.db"),
      "--port",
      "0",
      "--http-port",
      "0",
      "--syslog-udp",
      "0",
      "--syslog-allow",
      "10.0.0.0/8,192.168.0.0/33",
    );
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^nms-server: .*Invalid network "192\.168\.0\.0\/33".*\n$/);
    assert.equal(result.stderr.split("\n").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-server serve refuses --syslog-tls without --tls-cert and --tls-key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-syslog-cli-" });
  try {
    const result = await nmsServer("serve", "--db", join(dir, "nms.db"), "--syslog-tls", "0");
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "nms-server: --syslog-tls needs --tls-cert and --tls-key\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-server sources lists syslog senders with their status", async () => {
  await using srv = await startTestServer({ workers: 1, syslogUdpPort: 0 });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await socket.send(
      new TextEncoder().encode("<13>Nov 25 10:00:00 core-sw1 stp: topology change"),
      {
        transport: "udp",
        hostname: "127.0.0.1",
        port: srv.server.syslogAddrs.udp!.port,
      },
    );
  } finally {
    socket.close();
  }
  await waitFor(async () => (await srv.store.listSources()).length === 1);
  const json = await nmsServer("sources", "--db", srv.dbPath, "--json");
  assert.equal(json.code, 0, json.stderr);
  const [source] = JSON.parse(json.stdout);
  assert.deepEqual(
    [source.address, source.hostname, source.transport, source.events, source.status],
    ["127.0.0.1", "core-sw1", "udp", 1, "active"],
  );
  const text = await nmsServer("sources", "--db", srv.dbPath);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ADDRESS +HOSTNAME +STATUS/);
  assert.match(text.stdout, /127\.0\.0\.1 +core-sw1 +active .* udp /);
});

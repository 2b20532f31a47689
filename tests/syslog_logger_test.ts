/**
 * The syslog receiver against a real sender: util-linux `logger` over UDP
 * and TCP, RFC 3164 and RFC 5424, both TCP framings, structured data; plus
 * the allow-list, malformed input and TLS.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { EVENT_FLAGS, type EventRecord } from "../server/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer, type TestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";
import { writeAll } from "./_harness/write_all.ts";

const LOGGER = "/usr/bin/logger";
const hasLogger = await Deno.stat(LOGGER).then(() => true, () => false);
const ignoreReason = hasLogger ? "" : ` (ignored: ${LOGGER} is not installed)`;
const encoder = new TextEncoder();

/** Runs logger with these arguments and fails the test on a non-zero exit. */
async function logger(...args: string[]): Promise<void> {
  const output = await new Deno.Command(LOGGER, { args, stdout: "null", stderr: "piped" }).output();
  assert.equal(
    output.code,
    0,
    `logger ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`,
  );
}

/** Waits until `count` client events are stored and returns them, oldest first. */
async function eventsWhen(srv: TestServer, count: number): Promise<EventRecord[]> {
  return await waitFor(async () => {
    const events = await clientEvents(srv.store);
    return events.length >= count ? events : null;
  }, { timeoutMs: 20_000, message: `${count} stored syslog events` });
}

/** The local hostname as logger reports it, short or full. */
function isLocalHost(host: string | null): boolean {
  const name = Deno.hostname();
  return host === name || host === name.split(".")[0];
}

Deno.test({
  name:
    `syslog UDP stores logger --rfc5424 with PRI, procid, msgid and structured data${ignoreReason}`,
  ignore: !hasLogger,
  async fn() {
    await using srv = await startTestServer({ workers: 1, syslogUdpPort: 0 });
    const port = String(srv.server.syslogAddrs.udp!.port);
    const before = Date.now();
    await logger(
      "--udp",
      "--server",
      "127.0.0.1",
      "--port",
      port,
      "--rfc5424",
      "--tag",
      "myapp",
      "--priority",
      "local3.warning",
      "--id=4242",
      "--msgid",
      "ID47",
      "--sd-id",
      "example@32473",
      "--sd-param",
      'iut="3"',
      "--sd-param",
      'eventSource="App \\"quoted\\""',
      "Payment failed for order 8812",
    );
    const [event] = await eventsWhen(srv, 1);
    assert.ok(event);
    assert.equal(event.facility, 19); // local3
    assert.equal(event.severity, 4); // warning
    assert.equal(event.program, "myapp");
    assert.equal(event.pid, 4242);
    assert.equal(event.msgid, "ID47");
    assert.ok(isLocalHost(event.host), `host ${event.host}`);
    assert.equal(event.message, "Payment failed for order 8812");
    assert.match(
      event.structuredData ?? "",
      /\[example@32473 iut="3" eventSource="App \\"quoted\\""\]/,
    );
    assert.ok(event.ts >= before - 2000 && event.ts <= Date.now() + 2000, `ts ${event.ts}`);
    assert.equal(event.flags & EVENT_FLAGS.unparsed, 0);
  },
});

Deno.test({
  name: `syslog UDP stores logger --rfc3164 with facility, severity, tag and pid${ignoreReason}`,
  ignore: !hasLogger,
  async fn() {
    await using srv = await startTestServer({ workers: 1, syslogUdpPort: 0 });
    const port = String(srv.server.syslogAddrs.udp!.port);
    await logger(
      "-d",
      "-n",
      "127.0.0.1",
      "-P",
      port,
      "--rfc3164",
      "-t",
      "backup",
      "--id=777",
      "-p",
      "daemon.err",
      "disk full",
    );
    const [event] = await eventsWhen(srv, 1);
    assert.ok(event);
    assert.equal(event.facility, 3); // daemon
    assert.equal(event.severity, 3); // err
    assert.equal(event.program, "backup");
    assert.equal(event.pid, 777);
    assert.ok(isLocalHost(event.host), `host ${event.host}`);
    assert.equal(event.message, "disk full");
    assert.equal(event.msgid, null);
  },
});

Deno.test({
  name:
    `syslog TCP stores logger messages with octet counting and with newline framing${ignoreReason}`,
  ignore: !hasLogger,
  async fn() {
    await using srv = await startTestServer({ workers: 1, syslogTcpPort: 0 });
    const port = String(srv.server.syslogAddrs.tcp!.port);
    const dir = await Deno.makeTempDir({ prefix: "nms-logger-" });
    try {
      // 50 lines in one connection each way: logger -f sends one message per line.
      const file = join(dir, "lines.txt");
      await Deno.writeTextFile(
        file,
        Array.from({ length: 50 }, (_, i) => `line ${i} of the file`).join("\n") + "\n",
      );
      await logger(
        "-T",
        "-n",
        "127.0.0.1",
        "-P",
        port,
        "--rfc5424",
        "--octet-count",
        "-t",
        "octet",
        "-p",
        "local0.info",
        "-f",
        file,
      );
      await logger(
        "-T",
        "-n",
        "127.0.0.1",
        "-P",
        port,
        "--rfc3164",
        "-t",
        "newline",
        "-p",
        "local1.notice",
        "-f",
        file,
      );
      await logger(
        "-T",
        "-n",
        "127.0.0.1",
        "-P",
        port,
        "--rfc5424",
        "--octet-count",
        "--sd-id",
        "origin@1",
        "--sd-param",
        'ip="192.0.2.1"',
        "-t",
        "sd",
        "with structured data",
      );
      const events = await eventsWhen(srv, 101);
      assert.equal(events.length, 101);
      const octet = events.filter((e) => e.program === "octet");
      const newline = events.filter((e) => e.program === "newline");
      assert.deepEqual(octet.map((e) => e.message), newline.map((e) => e.message));
      assert.deepEqual(
        octet.map((e) => e.message),
        Array.from({ length: 50 }, (_, i) => `line ${i} of the file`),
      );
      for (const e of octet) assert.deepEqual([e.facility, e.severity], [16, 6]);
      for (const e of newline) assert.deepEqual([e.facility, e.severity], [17, 5]);
      const sd = events.find((e) => e.program === "sd");
      assert.ok(sd);
      assert.match(sd.structuredData ?? "", /\[origin@1 ip="192\.0\.2\.1"\]/);
      assert.equal(sd.message, "with structured data");
      assert.ok(events.every((e) => (e.flags & EVENT_FLAGS.unparsed) === 0));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `syslog records each sender as a source with hostname, counts and transport${ignoreReason}`,
  ignore: !hasLogger,
  async fn() {
    await using srv = await startTestServer({ workers: 1, syslogUdpPort: 0, syslogTcpPort: 0 });
    const udp = String(srv.server.syslogAddrs.udp!.port);
    const tcp = String(srv.server.syslogAddrs.tcp!.port);
    const before = Date.now();
    await logger("-d", "-n", "127.0.0.1", "-P", udp, "--rfc5424", "-t", "a", "one");
    await logger("-d", "-n", "127.0.0.1", "-P", udp, "--rfc5424", "-t", "a", "two");
    await eventsWhen(srv, 2);
    await logger("-T", "-n", "127.0.0.1", "-P", tcp, "--rfc3164", "-t", "b", "three");
    await eventsWhen(srv, 3);
    const sources = await waitFor(async () => {
      const all = await srv.store.listSources();
      return all.length === 1 && all[0]!.events === 3 ? all : null;
    });
    const source = sources[0]!;
    assert.equal(source.address, "127.0.0.1");
    assert.ok(isLocalHost(source.hostname), `hostname ${source.hostname}`);
    assert.equal(source.transport, "tcp");
    assert.equal(source.unparsed, 0);
    assert.ok(source.firstSeen >= before - 1000 && source.firstSeen <= source.lastSeen);
    // The counter follows the commit's answer, which may come after the rows are readable.
    await waitFor(() => srv.server.syslogStats().stored === 3);
  },
});

Deno.test({
  name: `syslog drops and counts senders outside the allow-list${ignoreReason}`,
  ignore: !hasLogger,
  async fn() {
    await using srv = await startTestServer({
      workers: 1,
      syslogUdpPort: 0,
      syslogTcpPort: 0,
      syslogAllow: ["10.0.0.0/8", "192.168.0.0/16"],
    });
    const { udp, tcp } = srv.server.syslogAddrs;
    await logger(
      "-d",
      "-n",
      "127.0.0.1",
      "-P",
      String(udp!.port),
      "--rfc5424",
      "-t",
      "x",
      "denied udp",
    );
    await waitFor(() => srv.server.syslogStats().deniedDatagrams === 1);
    // logger may report the closed connection as an error; the server's count is what matters.
    await new Deno.Command(LOGGER, {
      args: [
        "-T",
        "-n",
        "127.0.0.1",
        "-P",
        String(tcp!.port),
        "--rfc5424",
        "-t",
        "x",
        "denied tcp",
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    await waitFor(() => srv.server.syslogStats().deniedConnections === 1);
    assert.equal((await clientEvents(srv.store)).length, 0);
    assert.deepEqual(await srv.store.listSources(), []);
  },
});

Deno.test("syslog stores malformed input raw and flagged, and keeps listening", async () => {
  await using srv = await startTestServer({ workers: 1, syslogUdpPort: 0, syslogTcpPort: 0 });
  const { udp, tcp } = srv.server.syslogAddrs;
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: udp!.port };
    await socket.send(encoder.encode("just some words"), to);
    await socket.send(new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x41]), to);
    await socket.send(new Uint8Array(0), to); // empty: nothing to store
    await socket.send(encoder.encode("<999>1 not a pri"), to);
    await socket.send(
      encoder.encode("<189>123: *Nov 25 10:00:01.123: %LINK-3-UPDOWN: Gi0/1 down\0\0"),
      to,
    );
  } finally {
    socket.close();
  }
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp!.port });
  try {
    const long = "<13>" + "x".repeat(70_000);
    await writeAll(
      conn,
      encoder.encode(`${long}\n<13>Nov 25 10:00:02 sw1 after: still listening\n`),
    );
  } finally {
    conn.close();
  }
  const events = await eventsWhen(srv, 6);
  const byRaw = (prefix: string) => events.find((e) => e.raw.startsWith(prefix));
  const words = byRaw("just some words");
  assert.ok(words);
  assert.equal(words.flags & EVENT_FLAGS.unparsed, EVENT_FLAGS.unparsed);
  assert.equal(words.host, "127.0.0.1");
  // Not UTF-8: stored escaped, so its bytes can be recovered (docs/SYSLOG.md).
  const binary = events.find((e) => e.raw.startsWith("\\xff\\xfe"));
  assert.ok(binary);
  assert.equal(binary.flags & EVENT_FLAGS.unparsed, EVENT_FLAGS.unparsed);
  assert.equal(binary.flags & EVENT_FLAGS.escaped, EVENT_FLAGS.escaped);
  const badPri = byRaw("<999>");
  assert.ok(badPri);
  assert.equal(badPri.flags & EVENT_FLAGS.unparsed, EVENT_FLAGS.unparsed);
  const cisco = byRaw("<189>123:");
  assert.ok(cisco);
  assert.deepEqual([cisco.program, cisco.severity, cisco.facility, cisco.msgid], [
    "LINK",
    3,
    23,
    "%LINK-3-UPDOWN",
  ]);
  assert.equal(cisco.message, "Gi0/1 down");
  const long = byRaw("<13>xxx");
  assert.ok(long);
  assert.equal(long.raw.length, 64 * 1024);
  assert.equal(long.flags & EVENT_FLAGS.truncated, EVENT_FLAGS.truncated);
  const after = events.find((e) => e.program === "after");
  assert.ok(after);
  assert.equal(after.host, "sw1");
  assert.equal(srv.server.syslogStats().truncated, 1);
  const [source] = await srv.store.listSources();
  assert.equal(source?.unparsed, 3);
});

Deno.test("syslog over TLS stores octet-counted messages from a client that verifies the certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-tls-" });
  try {
    const tls = await selfSignedCertificate(dir);
    await using srv = await startTestServer({ workers: 1, syslogTlsPort: 0, tls });
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port: srv.server.syslogAddrs.tls!.port,
      caCerts: [tls.cert],
    });
    try {
      const frames = [
        "<34>1 2026-11-25T10:00:00.5+01:00 fw1 su - ID1 - 'su root' failed",
        '<165>1 - fw1 app - - [a@1 b="c"] \u{feff}grüße',
      ]
        .map((m) => `${encoder.encode(m).length} ${m}`).join("");
      await writeAll(conn, encoder.encode(frames));
    } finally {
      conn.close();
    }
    const events = await eventsWhen(srv, 2);
    assert.deepEqual(events.map((e) => [e.host, e.program, e.severity, e.facility]), [
      ["fw1", "su", 2, 4],
      ["fw1", "app", 5, 20],
    ]);
    assert.equal(events[0]!.ts, Date.UTC(2026, 10, 25, 9, 0, 0, 500));
    assert.equal(events[0]!.msgid, "ID1");
    assert.equal(events[1]!.message, "grüße");
    assert.equal(events[1]!.structuredData, '[a@1 b="c"]');
    const [source] = await srv.store.listSources();
    assert.deepEqual([source?.address, source?.hostname, source?.transport, source?.events], [
      "127.0.0.1",
      "fw1",
      "tls",
      2,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startServer() rejects an invalid syslog allow-list and a TLS port without a certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-syslog-config-" });
  try {
    await assert.rejects(
      startTestServer({ dataDir: dir, syslogUdpPort: 0, syslogAllow: ["10.0.0.0/33"] }),
      /Invalid network "10\.0\.0\.0\/33"/,
    );
    await assert.rejects(
      startTestServer({ dataDir: dir, syslogTlsPort: 0 }),
      /Cannot listen for syslog over TLS: no certificate/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Makes a one-day self-signed certificate for localhost with openssl; never committed. */
async function selfSignedCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const output = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost",
      // An end-entity certificate: rustls refuses a CA certificate as a server's own.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
}

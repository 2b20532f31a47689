/**
 * The syslog receiver against a real relay: an unprivileged rsyslogd reads a
 * file with imfile and forwards every line with omfwd over TCP, once with
 * octet counting (RFC 5424) and once with traditional newline framing
 * (rsyslog's forward format: RFC 3164 with an RFC 3339 timestamp).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { EVENT_FLAGS, type EventRecord } from "../server/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

const RSYSLOGD = "/usr/sbin/rsyslogd";
const hasRsyslog = await Deno.stat(RSYSLOGD).then(() => true, () => false);

/** Lines written before rsyslogd starts, then after: text that tests the framing and parsing. */
const LINES_BEFORE = Array.from(
  { length: 120 },
  (_, i) =>
    [
      `request ${i} served in ${i % 17} ms`,
      `2026-11-25T10:00:${String(i % 60).padStart(2, "0")}Z looks like a timestamp`,
      `quotes "x" and [brackets] and a = sign ${i}`,
      `grüße ✓ ${i}`,
    ][i % 4]!,
);
const LINES_AFTER = Array.from({ length: 30 }, (_, i) => `appended after start ${i}`);

/** The local hostname as rsyslog reports it, short or full. */
function isLocalHost(host: string | null): boolean {
  const name = Deno.hostname();
  return host === name || host === name.split(".")[0];
}

Deno.test({
  name: hasRsyslog
    ? "rsyslogd forwards every line of a file over TCP, octet-counted and newline-framed, with its fields"
    : `rsyslogd forwarding (ignored: ${RSYSLOGD} is not installed; .ci/run installs the rsyslog package)`,
  ignore: !hasRsyslog,
  async fn() {
    await using srv = await startTestServer({ workers: 1, syslogTcpPort: 0 });
    const port = srv.server.syslogAddrs.tcp!.port;
    const dir = await Deno.makeTempDir({ prefix: "nms-rsyslog-" });
    let child: Deno.ChildProcess | undefined;
    let stderr: Promise<string> = Promise.resolve("");
    let stopped: Promise<string> | undefined;
    /** Stops rsyslogd once and returns what it wrote on stderr. */
    const stopRsyslog = () =>
      stopped ??= (async () => {
        if (!child) return "";
        try {
          child.kill("SIGTERM");
        } catch {
          // Already exited.
        }
        await child.status;
        return (await stderr).trim();
      })();
    try {
      const input = join(dir, "app.log");
      const work = join(dir, "work");
      await Deno.mkdir(work);
      await Deno.writeTextFile(input, LINES_BEFORE.join("\n") + "\n");
      const config = join(dir, "rsyslog.conf");
      // No imuxsock/imklog: nothing but the file. Only lines tagged webapp are
      // forwarded (not rsyslogd's own start-up messages).
      await Deno.writeTextFile(
        config,
        `
global(workDirectory="${work}")
module(load="imfile" mode="inotify")
input(type="imfile" file="${input}" tag="webapp:" facility="local3" severity="warning"
      freshStartTail="off")
if $programname == "webapp" then {
  action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp"
         tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
  action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp"
         tcp_framing="traditional" template="RSYSLOG_ForwardFormat")
}
`,
      );
      const started = Date.now();
      child = new Deno.Command(RSYSLOGD, {
        args: ["-n", "-f", config, "-i", join(dir, "rsyslogd.pid")],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      stderr = new Response(child.stderr).text();
      const total = 2 * (LINES_BEFORE.length + LINES_AFTER.length);
      await waitFor(async () => (await srv.store.countEvents()) >= LINES_BEFORE.length * 2, {
        timeoutMs: 30_000,
        message: "the file's first lines forwarded by rsyslogd",
      });
      await Deno.writeTextFile(input, LINES_AFTER.join("\n") + "\n", { append: true });
      const events = await waitFor(async () => {
        const all = await clientEvents(srv.store);
        return all.length >= total ? all : null;
      }, { timeoutMs: 30_000, message: `${total} events forwarded by rsyslogd` });
      const finished = Date.now();
      assert.equal(events.length, total);

      const expected = [...LINES_BEFORE, ...LINES_AFTER];
      const octet: EventRecord[] = [];
      const newline: EventRecord[] = [];
      for (const event of events) {
        (event.raw.startsWith("<156>1 ") ? octet : newline).push(event);
      }
      for (const [framing, stream] of [["octet-counted", octet], ["newline", newline]] as const) {
        assert.deepEqual(stream.map((e) => e.message), expected, framing);
        for (const event of stream) {
          assert.equal(event.program, "webapp", framing);
          assert.equal(event.facility, 19, framing); // local3
          assert.equal(event.severity, 4, framing); // warning
          assert.ok(isLocalHost(event.host), `${framing}: host ${event.host}`);
          assert.ok(event.ts >= started - 5000 && event.ts <= finished + 5000, `${framing}: ts`);
          assert.equal(event.flags & EVENT_FLAGS.unparsed, 0, framing);
        }
      }
      const [source] = await srv.store.listSources();
      assert.deepEqual([source?.address, source?.transport, source?.events, source?.unparsed], [
        "127.0.0.1",
        "tcp",
        total,
        0,
      ]);
    } catch (error) {
      // Show what rsyslogd said, if anything, with the failure.
      const said = await stopRsyslog();
      throw said
        ? new Error(`${(error as Error).message}; rsyslogd: ${said}`, { cause: error })
        : error;
    } finally {
      await stopRsyslog();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

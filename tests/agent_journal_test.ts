/**
 * The systemd journal as a source (`--journal`): entries from
 * `journalctl --follow --output=json` arrive as syslog-style lines whose PRI
 * the server parses, sent as `EVENT journal-<seqnum id>… <seqnum>` so resends
 * are exactly-once, with the cursor saved after the ACKs and used with
 * `--after-cursor` after a restart.
 *
 * A fake journalctl (tests/_harness/fake_journalctl.ts) stands in for the
 * real one, whose journal may be empty or absent on a test machine; one test
 * uses the real journal and is ignored, with the reason, when it cannot.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentHandle, runAgent, type RunAgentOptions, SILENT_LOGGER } from "../agent/mod.ts";
import { JournalCursorFile } from "../agent/checkpoint/journal_cursor_file.ts";
import { JournalSource } from "../agent/journal/journal_source.ts";
import type { LineOrigin } from "../agent/line_source.ts";
import { clientEvents } from "./_harness/events.ts";
import {
  createFakeJournal,
  FAKE_MACHINE_ID,
  FAKE_SEQNUM_ID,
  fakeCursor,
  fakeEntry,
} from "./_harness/fake_journalctl.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

const STREAM = `journal-${FAKE_SEQNUM_ID}-${FAKE_MACHINE_ID.slice(0, 16)}`;

function options(port: number, command: string, stateDir: string): RunAgentOptions {
  return {
    hostname: "127.0.0.1",
    port,
    username: "admin",
    password: "admin",
    paths: [],
    stateDir,
    journal: { command, units: ["ssh.service", "cron.service"], restartDelayMs: 50 },
    logger: SILENT_LOGGER,
    host: { version: "0.1.0", hostname: "agent-node", os: "Test OS" },
    backoffInitialMs: 20,
    backoffMaxMs: 200,
  };
}

function acknowledged(agent: AgentHandle): number {
  return agent.stats.linesStored + agent.stats.linesDuplicate;
}

Deno.test("runAgent() with a journal sends new entries with their severity and resumes after the saved cursor", async () => {
  await using server = await startTestServer();
  await using journal = await createFakeJournal([fakeEntry(1, "history before the agent")]);
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-journal-" });
  try {
    const stateDir = join(dir, "state");
    {
      await using agent = await runAgent(options(server.port, journal.command, stateDir));
      // The first start looked up the newest entry and saved its cursor at once.
      assert.deepEqual(await new JournalCursorFile(stateDir).load(), {
        status: "ok",
        cursor: fakeCursor(1),
      });
      await waitFor(() => agent.state === "connected");
      await journal.append(
        fakeEntry(2, "Accepted publickey for deploy", { SYSLOG_IDENTIFIER: "sshd", _PID: "812" }),
        fakeEntry(3, [...new TextEncoder().encode("disk\nfull")], { PRIORITY: "3" }),
      );
      await waitFor(() => agent.stats.linesStored === 2, { timeoutMs: 20_000 });
      assert.equal(agent.stats.journalEntries, 2);
    }
    assert.deepEqual(await new JournalCursorFile(stateDir).load(), {
      status: "ok",
      cursor: fakeCursor(3),
    });
    // Written while the agent is stopped: the restart resumes after entry 3.
    await journal.append(fakeEntry(4, "while down one"), fakeEntry(5, "while down two"));
    {
      await using agent = await runAgent(options(server.port, journal.command, stateDir));
      await waitFor(() => acknowledged(agent) === 2, { timeoutMs: 20_000 });
      await journal.append(fakeEntry(6, "after the restart"));
      await waitFor(() => agent.stats.linesStored === 3, { timeoutMs: 20_000 });
      assert.equal(agent.stats.linesDuplicate, 0);
    }

    const events = await clientEvents(server.store);
    assert.deepEqual(events.map((e) => e.message), [
      "Accepted publickey for deploy",
      "disk#012full",
      "while down one",
      "while down two",
      "after the restart",
    ]);
    const [first, second] = events;
    assert.equal(first!.host, "journal-host");
    assert.equal(first!.program, "sshd");
    assert.equal(first!.pid, 812);
    assert.equal(first!.severity, 6);
    assert.equal(first!.facility, 3);
    assert.equal(first!.ts, Date.UTC(2026, 10, 23, 19, 40, 15));
    assert.equal(second!.severity, 3);

    const calls = await journal.invocations();
    assert.equal(
      calls[0],
      "--output=json --all --no-pager --lines=1 --unit=ssh.service --unit=cron.service",
    );
    assert.ok(
      calls.includes(
        `--output=json --all --no-pager --follow --after-cursor=${
          fakeCursor(1)
        } --unit=ssh.service --unit=cron.service`,
      ),
      calls.join("\n"),
    );
    assert.ok(calls.some((c) => c.includes(`--after-cursor=${fakeCursor(3)} `)), calls.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JournalSource moves its cursor only past settled entries, in order, and resends after rewind()", async () => {
  await using journal = await createFakeJournal();
  const source = new JournalSource({
    command: journal.command,
    fallbackHostname: "fallback",
    cursor: fakeCursor(10),
  });
  try {
    await source.start();
    await journal.append(
      fakeEntry(11, "one"),
      fakeEntry(12, "two"),
      fakeEntry(13, "three"),
      fakeEntry(13, "repeated by journalctl"),
    );
    await waitFor(() => source.bufferedEntries === 3 && source.stats.repeated === 1);
    const seen: [LineOrigin, number, string][] = [];
    const consumer = {
      hasRoom: () => true,
      line: (origin: LineOrigin, line: Uint8Array, position: number) => {
        seen.push([origin, position, new TextDecoder().decode(line)]);
        // The agent's filter drops line two: consumed, not sent.
        if (position === 12) origin.skip(position);
        else origin.inFlight++;
      },
      overflow: () => {},
    };
    assert.equal(await source.read(consumer), 3);
    assert.deepEqual(seen.map(([, p]) => p), [11, 12, 13]);
    const origin = seen[0]![0];
    assert.equal(new TextDecoder().decode(origin.streamBytes), STREAM);
    assert.ok(seen[0]![2].endsWith(" journal-host app[4242]: one"));
    assert.equal(source.ackedCursor, fakeCursor(10), "nothing settled in order yet");
    origin.acknowledge(11);
    assert.equal(
      source.ackedCursor,
      fakeCursor(12),
      "the skipped entry follows the acknowledged one",
    );
    // The connection drops before 13 is acknowledged: it is handed out again.
    source.rewind();
    seen.length = 0;
    assert.equal(await source.read(consumer), 1);
    assert.deepEqual(seen.map(([, p]) => p), [13]);
    origin.acknowledge(13);
    assert.equal(source.ackedCursor, fakeCursor(13));
    assert.equal(source.bufferedEntries, 0);
  } finally {
    await source.close();
  }
  const calls = await journal.invocations();
  assert.deepEqual(calls, [
    `--output=json --all --no-pager --follow --after-cursor=${fakeCursor(10)}`,
  ]);
});

Deno.test("JournalSource restarts journalctl after it exits, after the last entry it received", async () => {
  await using journal = await createFakeJournal([fakeEntry(1, "one")]);
  // A journalctl that prints what it has and exits, as after a journal rotation error.
  const script = join(journal.binDir, "journalctl-exits");
  await Deno.writeTextFile(
    script,
    (await Deno.readTextFile(journal.command)).replaceAll("exec tail -n", "tail -n")
      .replaceAll(" -f ", " "),
    { mode: 0o755 },
  );
  const source = new JournalSource({
    command: script,
    fallbackHostname: "fallback",
    probeStart: false,
    cursor: fakeCursor(0),
    restartDelayMs: 20,
  });
  try {
    await source.start();
    await waitFor(() => source.stats.entries === 1);
    await journal.append(fakeEntry(2, "two"));
    await waitFor(() => source.stats.entries === 2 && source.stats.restarts >= 1);
    assert.equal(source.stats.repeated, 0, "each restart resumed after the last entry");
  } finally {
    await source.close();
  }
  const calls = await journal.invocations();
  assert.ok(calls.some((c) => c.endsWith(`--after-cursor=${fakeCursor(1)}`)), calls.join("\n"));
});

Deno.test("runAgent() refuses to start when journalctl cannot be run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-journal-" });
  try {
    await assert.rejects(
      runAgent(options(1, join(dir, "no-such-journalctl"), join(dir, "state"))),
      /Cannot run .*no-such-journalctl for --journal: not found/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-agent run --journal finds journalctl through PATH and ships its entries", async () => {
  await using server = await startTestServer();
  await using journal = await createFakeJournal();
  const dir = await Deno.makeTempDir({ prefix: "nms-agent-journal-cli-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(import.meta.dirname!, "../agent/main.ts"),
      "run",
      "--server",
      `127.0.0.1:${server.port}`,
      "--user",
      "admin",
      "--journal",
      "--journal-unit",
      "nginx.service",
      "--min-severity",
      "warning",
      "--state-dir",
      join(dir, "state"),
    ],
    env: { NMS_PASSWORD: "admin", PATH: `${journal.binDir}:${Deno.env.get("PATH") ?? ""}` },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const reading = (async () => {
    for (;;) {
      const { value, done } = await stderr.read();
      if (done) break;
      log += value;
    }
  })();
  try {
    await waitFor(() => log.includes("state=connected"), {
      timeoutMs: 30_000,
      message: "the agent to connect",
    });
    await journal.append(
      fakeEntry(1, "upstream timed out", { PRIORITY: "4", SYSLOG_IDENTIFIER: "nginx" }),
      fakeEntry(2, "GET / 200", { PRIORITY: "6", SYSLOG_IDENTIFIER: "nginx" }),
    );
    await waitFor(async () => (await clientEvents(server.store)).length === 1, {
      timeoutMs: 20_000,
      message: "the warning to be stored",
    });
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    await Deno.remove(dir, { recursive: true });
    assert.equal(status.code, 0, log);
  }
  const [event] = await clientEvents(server.store);
  assert.equal(event!.message, "upstream timed out");
  assert.equal(event!.severity, 4);
  assert.ok((await journal.invocations()).some((c) => c.includes("--unit=nginx.service")));
});

/** Why the real journal cannot be used here, or undefined when it can. */
async function realJournalUnusable(): Promise<string | undefined> {
  try {
    const probe = await new Deno.Command("journalctl", {
      args: ["--lines=1", "--output=json", "--no-pager"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!probe.success || probe.stdout.length === 0) {
      return "journalctl shows no journal entries here (no journald, or no access)";
    }
    const cat = await new Deno.Command("systemd-cat", { args: ["--version"], stdout: "null" })
      .output();
    if (!cat.success) return "systemd-cat is not usable here";
    return undefined;
  } catch {
    return "journalctl or systemd-cat is not installed";
  }
}

const realUnusable = await realJournalUnusable();

Deno.test({
  name: "runAgent() with the real journal ships an entry written with systemd-cat" +
    (realUnusable === undefined ? "" : ` (ignored: ${realUnusable})`),
  ignore: realUnusable !== undefined,
  async fn() {
    await using server = await startTestServer();
    const dir = await Deno.makeTempDir({ prefix: "nms-agent-real-journal-" });
    try {
      await using agent = await runAgent({
        ...options(server.port, "journalctl", join(dir, "state")),
        journal: {},
      });
      await waitFor(() => agent.state === "connected");
      const token = `nms-journal-test-${crypto.randomUUID()}`;
      const cat = new Deno.Command("systemd-cat", {
        args: ["-t", "nms-test", "echo", token],
        stdout: "null",
      });
      assert.ok((await cat.output()).success);
      await waitFor(
        async () => (await clientEvents(server.store)).some((e) => e.message === token),
        { timeoutMs: 20_000, message: "the entry to arrive" },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

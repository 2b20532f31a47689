import assert from "node:assert/strict";
import type { Command } from "./commands.ts";
import {
  encodeEventLine,
  eventLineMaxBytes,
  eventVerb,
  formatAck,
  formatAckLine,
  formatCommand,
  parseAck,
  parseCommand,
  readEventLine,
} from "./codec.ts";
import { FAIL, OK } from "./messages.ts";

/** Parses a line that must be valid and returns its command. */
function parsed(line: string): Command {
  const result = parseCommand(line);
  assert.ok(result.ok, `expected ${JSON.stringify(line)} to parse, got ${JSON.stringify(result)}`);
  return result.command;
}

/** Asserts that a line is rejected with exactly this reason. */
function rejected(line: string, reason: string): void {
  assert.deepEqual(parseCommand(line), { ok: false, reason }, JSON.stringify(line));
}

// --- every command parsed ---------------------------------------------------

Deno.test("parseCommand() parses LOGIN into username and password", () => {
  assert.deepEqual(parsed("LOGIN admin s3cret"), {
    type: "LOGIN",
    username: "admin",
    password: "s3cret",
  });
});

Deno.test("parseCommand() keeps spaces inside a LOGIN password", () => {
  assert.deepEqual(parsed("LOGIN bob correct horse  battery staple "), {
    type: "LOGIN",
    username: "bob",
    password: "correct horse  battery staple ",
  });
});

Deno.test("parseCommand() parses REGISTER into version, hostname and os", () => {
  assert.deepEqual(parsed("REGISTER 1.0 PyQt6-Client Linux"), {
    type: "REGISTER",
    version: "1.0",
    hostname: "PyQt6-Client",
    os: "Linux",
  });
});

Deno.test("parseCommand() keeps spaces inside the REGISTER os string", () => {
  assert.deepEqual(parsed("REGISTER 0.1.0 web-01 Debian GNU/Linux 12 (bookworm)"), {
    type: "REGISTER",
    version: "0.1.0",
    hostname: "web-01",
    os: "Debian GNU/Linux 12 (bookworm)",
  });
});

Deno.test("parseCommand() parses HEARTBEAT with and without lag=", () => {
  assert.deepEqual(parsed("HEARTBEAT 3600"), { type: "HEARTBEAT", uptimeSeconds: 3600 });
  assert.deepEqual(parsed("HEARTBEAT 0"), { type: "HEARTBEAT", uptimeSeconds: 0 });
  assert.deepEqual(parsed("HEARTBEAT 12 lag=4096"), {
    type: "HEARTBEAT",
    uptimeSeconds: 12,
    lagBytes: 4096,
  });
  assert.deepEqual(parsed("HEARTBEAT 12 lag=0"), {
    type: "HEARTBEAT",
    uptimeSeconds: 12,
    lagBytes: 0,
  });
});

Deno.test("parseCommand() rounds a fractional HEARTBEAT uptime down to whole seconds", () => {
  assert.deepEqual(parsed("HEARTBEAT 3600.9"), { type: "HEARTBEAT", uptimeSeconds: 3600 });
});

Deno.test("parseCommand() parses BATCH_EVENT and keeps the whole message", () => {
  assert.deepEqual(parsed("BATCH_EVENT 2025-12-11T16:00:00 sshd: session  opened "), {
    type: "BATCH_EVENT",
    message: "2025-12-11T16:00:00 sshd: session  opened ",
  });
});

Deno.test("parseCommand() parses EVENT into stream, position and message", () => {
  assert.deepEqual(parsed("EVENT Xk2-9_a.b:c 1234 <34>Oct 11 22:14:15 mymachine su: 'su root'"), {
    type: "EVENT",
    stream: "Xk2-9_a.b:c",
    position: 1234,
    message: "<34>Oct 11 22:14:15 mymachine su: 'su root'",
  });
});

Deno.test("parseCommand() accepts EVENT position 0 and the largest safe integer", () => {
  assert.equal((parsed("EVENT s 0 x") as { position: number }).position, 0);
  assert.equal(
    (parsed(`EVENT s ${Number.MAX_SAFE_INTEGER} x`) as { position: number }).position,
    Number.MAX_SAFE_INTEGER,
  );
});

Deno.test("parseCommand() accepts an EVENT stream id of exactly 64 characters", () => {
  const stream = "a".repeat(64);
  assert.equal((parsed(`EVENT ${stream} 1 x`) as { stream: string }).stream, stream);
});

Deno.test("parseCommand() parses BYE", () => {
  assert.deepEqual(parsed("BYE"), { type: "BYE" });
});

Deno.test("parseCommand() accepts verbs in any letter case", () => {
  assert.equal(parsed("login a b").type, "LOGIN");
  assert.equal(parsed("Register 1 h os").type, "REGISTER");
  assert.equal(parsed("heartBEAT 1").type, "HEARTBEAT");
  assert.equal(parsed("batch_event x").type, "BATCH_EVENT");
  assert.equal(parsed("event s 1 x").type, "EVENT");
  assert.equal(parsed("bye").type, "BYE");
});

Deno.test("parseCommand() keeps the letter case of arguments", () => {
  assert.deepEqual(parsed("login Admin PassWord"), {
    type: "LOGIN",
    username: "Admin",
    password: "PassWord",
  });
});

// --- every FAIL reason ------------------------------------------------------

Deno.test("parseCommand() rejects an empty line", () => {
  rejected("", FAIL.emptyLine);
});

Deno.test("parseCommand() rejects a line containing NUL, wherever it is", () => {
  rejected("\0", FAIL.nulByte);
  rejected("BATCH_EVENT a\0b", FAIL.nulByte);
  rejected("LOGIN admin pass\0", FAIL.nulByte);
  rejected("\0LOGIN admin admin", FAIL.nulByte);
});

Deno.test("parseCommand() rejects an unknown verb", () => {
  rejected("FOO bar", FAIL.unknownCommand);
  rejected("ACK OK Login successful", FAIL.unknownCommand);
  rejected("LOGINX a b", FAIL.unknownCommand);
  rejected(" LOGIN a b", FAIL.unknownCommand);
  rejected("LOGIN\ta b", FAIL.unknownCommand);
  rejected("   ", FAIL.unknownCommand);
});

Deno.test("parseCommand() rejects LOGIN without a username or password", () => {
  rejected("LOGIN", FAIL.usageLogin);
  rejected("LOGIN ", FAIL.usageLogin);
  rejected("LOGIN admin", FAIL.usageLogin);
  rejected("LOGIN admin ", FAIL.usageLogin);
  rejected("LOGIN  admin", FAIL.usageLogin);
});

Deno.test("parseCommand() rejects REGISTER with fewer than three arguments", () => {
  rejected("REGISTER", FAIL.usageRegister);
  rejected("REGISTER 1.0", FAIL.usageRegister);
  rejected("REGISTER 1.0 host", FAIL.usageRegister);
  rejected("REGISTER 1.0 host ", FAIL.usageRegister);
  rejected("REGISTER  host Linux", FAIL.usageRegister);
});

Deno.test("parseCommand() rejects a HEARTBEAT without a valid uptime", () => {
  rejected("HEARTBEAT", FAIL.usageHeartbeat);
  rejected("HEARTBEAT ", FAIL.usageHeartbeat);
  rejected("HEARTBEAT abc", FAIL.usageHeartbeat);
  rejected("HEARTBEAT -1", FAIL.usageHeartbeat);
  rejected("HEARTBEAT Infinity", FAIL.usageHeartbeat);
  rejected("HEARTBEAT NaN", FAIL.usageHeartbeat);
  rejected("HEARTBEAT  1", FAIL.usageHeartbeat);
});

Deno.test("parseCommand() rejects a HEARTBEAT with a malformed lag", () => {
  rejected("HEARTBEAT 1 lag=", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 lag=-5", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 lag=1.5", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 lag=abc", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 lag=99999999999999999", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 LAG=5", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 5", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 lag=5 extra", FAIL.usageHeartbeat);
  rejected("HEARTBEAT 1 ", FAIL.usageHeartbeat);
});

Deno.test("parseCommand() rejects BATCH_EVENT without a message", () => {
  rejected("BATCH_EVENT", FAIL.usageBatchEvent);
  rejected("BATCH_EVENT ", FAIL.usageBatchEvent);
});

Deno.test("parseCommand() rejects EVENT with a missing or malformed stream", () => {
  rejected("EVENT", FAIL.usageEvent);
  rejected("EVENT  1 message", FAIL.usageEvent);
  rejected("EVENT a/b 1 message", FAIL.usageEvent);
  rejected("EVENT stré 1 message", FAIL.usageEvent);
  rejected(`EVENT ${"a".repeat(65)} 1 message`, FAIL.usageEvent);
});

Deno.test("parseCommand() rejects EVENT with a missing or malformed position", () => {
  rejected("EVENT s", FAIL.usageEvent);
  rejected("EVENT s  message", FAIL.usageEvent);
  rejected("EVENT s -1 message", FAIL.usageEvent);
  rejected("EVENT s 1.5 message", FAIL.usageEvent);
  rejected("EVENT s 1e3 message", FAIL.usageEvent);
  rejected("EVENT s 0x10 message", FAIL.usageEvent);
  rejected("EVENT s abc message", FAIL.usageEvent);
  // 16 digits, but above Number.MAX_SAFE_INTEGER: it could not be stored exactly.
  rejected("EVENT s 9999999999999999 message", FAIL.usageEvent);
  rejected("EVENT s 12345678901234567 message", FAIL.usageEvent);
});

Deno.test("parseCommand() rejects EVENT without a message", () => {
  rejected("EVENT s 1", FAIL.usageEvent);
  rejected("EVENT s 1 ", FAIL.usageEvent);
});

Deno.test("parseCommand() rejects BYE with arguments", () => {
  rejected("BYE now", FAIL.usageBye);
  rejected("BYE  x", FAIL.usageBye);
});

Deno.test("parseCommand() never throws on arbitrary input", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = ["LOGIN", "EVENT", "HEARTBEAT", " ", "lag=", "1", "-", "\0", "é", "\r", "$"];
  for (let i = 0; i < 5000; i++) {
    let line = "";
    const parts = Math.floor(random() * 8);
    for (let j = 0; j < parts; j++) line += alphabet[Math.floor(random() * alphabet.length)];
    const result = parseCommand(line);
    assert.equal(typeof result.ok, "boolean");
  }
});

// --- formatting and round trips ---------------------------------------------

Deno.test("formatCommand() formats every command type", () => {
  assert.equal(
    formatCommand({ type: "LOGIN", username: "admin", password: "a b" }),
    "LOGIN admin a b",
  );
  assert.equal(
    formatCommand({ type: "REGISTER", version: "1.0", hostname: "h", os: "Debian GNU/Linux 12" }),
    "REGISTER 1.0 h Debian GNU/Linux 12",
  );
  assert.equal(formatCommand({ type: "HEARTBEAT", uptimeSeconds: 3600 }), "HEARTBEAT 3600");
  assert.equal(
    formatCommand({ type: "HEARTBEAT", uptimeSeconds: 5, lagBytes: 0 }),
    "HEARTBEAT 5 lag=0",
  );
  assert.equal(formatCommand({ type: "BATCH_EVENT", message: "x y" }), "BATCH_EVENT x y");
  assert.equal(
    formatCommand({ type: "EVENT", stream: "s1", position: 42, message: "m n" }),
    "EVENT s1 42 m n",
  );
  assert.equal(formatCommand({ type: "BYE" }), "BYE");
});

const ROUND_TRIP_COMMANDS: readonly Command[] = [
  { type: "LOGIN", username: "admin", password: "admin" },
  { type: "LOGIN", username: "ops@example.org", password: " spaces  everywhere " },
  { type: "REGISTER", version: "0.1.0", hostname: "web-01", os: "Linux" },
  { type: "REGISTER", version: "2", hostname: "db", os: "Debian GNU/Linux 12 (bookworm)" },
  { type: "HEARTBEAT", uptimeSeconds: 0 },
  { type: "HEARTBEAT", uptimeSeconds: 86400, lagBytes: 123456789 },
  { type: "BATCH_EVENT", message: "Oct 11 22:14:15 mymachine su: 'su root' failed" },
  { type: "BATCH_EVENT", message: "  leading and trailing spaces  " },
  { type: "EVENT", stream: "aZ09_-.:", position: 0, message: "first line" },
  { type: "EVENT", stream: "s", position: Number.MAX_SAFE_INTEGER, message: "ünïcödé ✓" },
  { type: "BYE" },
];

Deno.test("parseCommand(formatCommand(c)) returns c for every command type", () => {
  for (const command of ROUND_TRIP_COMMANDS) {
    assert.deepEqual(parsed(formatCommand(command)), command);
  }
});

Deno.test("formatCommand(parseCommand(line)) returns a canonical line unchanged", () => {
  const lines = [
    "LOGIN admin admin",
    "REGISTER 1.0 PyQt6-Client Linux",
    "HEARTBEAT 3600",
    "HEARTBEAT 3600 lag=10",
    "BATCH_EVENT 2025-12-11T16:00:00 sshd: session opened",
    "EVENT abc 99 <13>1 2025-12-11T16:00:00Z host app - - - hi",
    "BYE",
  ];
  for (const line of lines) assert.equal(formatCommand(parsed(line)), line);
});

Deno.test("formatCommand() writes verbs in upper case whatever case was parsed", () => {
  assert.equal(formatCommand(parsed("bye")), "BYE");
  assert.equal(formatCommand(parsed("heartbeat 5")), "HEARTBEAT 5");
});

// --- acknowledgements ---------------------------------------------------------

Deno.test("formatAck() formats OK and FAIL lines", () => {
  assert.equal(formatAck(true, OK.login), "ACK OK Login successful");
  assert.equal(formatAck(false, FAIL.invalidCredentials), "ACK FAIL Invalid credentials");
});

Deno.test("formatAckLine() is formatAck() and its newline", () => {
  assert.equal(formatAckLine(true, OK.event), "ACK OK Event received\n");
  for (const reason of Object.values(FAIL)) {
    assert.equal(formatAckLine(false, reason), formatAck(false, reason) + "\n");
  }
});

Deno.test("parseAck(formatAck()) round-trips every OK text and FAIL reason", () => {
  for (const message of Object.values(OK)) {
    assert.deepEqual(parseAck(formatAck(true, message)), { ok: true, ack: { ok: true, message } });
  }
  for (const message of Object.values(FAIL)) {
    assert.deepEqual(parseAck(formatAck(false, message)), {
      ok: true,
      ack: { ok: false, message },
    });
  }
});

Deno.test("parseAck() rejects lines that are not acknowledgements", () => {
  for (const line of ["", "ACK", "ACK OK", "ACK MAYBE x", "ack ok Login successful", "Welcome"]) {
    const result = parseAck(line);
    assert.equal(result.ok, false, JSON.stringify(line));
    assert.ok(!result.ok && result.reason.startsWith("Not an acknowledgement: "));
  }
});

Deno.test("parseAck() quotes at most 80 characters of a bad line in its reason", () => {
  const result = parseAck("x".repeat(1000));
  assert.ok(!result.ok);
  assert.equal(result.reason, `Not an acknowledgement: ${JSON.stringify("x".repeat(80))}`);
});

Deno.test("every OK text and FAIL reason is a single line without control characters", () => {
  for (const text of [...Object.values(OK), ...Object.values(FAIL)]) {
    assert.match(text, /^[\x20-\x7e]+$/);
  }
});

// --- eventVerb: the server's byte-level fast path ---------------------------------

const utf8 = new TextEncoder();

Deno.test("eventVerb() recognizes EVENT and BATCH_EVENT lines in any letter case", () => {
  assert.equal(eventVerb(utf8.encode("EVENT s 1 hello")), "EVENT");
  assert.equal(eventVerb(utf8.encode("event s 1 hello")), "EVENT");
  assert.equal(eventVerb(utf8.encode("BATCH_EVENT hello")), "BATCH_EVENT");
  assert.equal(eventVerb(utf8.encode("Batch_Event hello")), "BATCH_EVENT");
});

Deno.test("eventVerb() returns null for other commands and for a verb without arguments", () => {
  for (
    const line of ["", "EVENT", "EVENT ", "BATCH_EVENT", "BATCH_EVENT ", "EVENTS x", "LOGIN a b"]
  ) {
    assert.equal(eventVerb(utf8.encode(line)), null, JSON.stringify(line));
  }
  assert.equal(eventVerb(utf8.encode("HEARTBEAT 1")), null);
  assert.equal(eventVerb(utf8.encode(" EVENT s 1 x")), null);
  assert.equal(eventVerb(utf8.encode("BATCH-EVENT x")), null);
});

Deno.test("eventVerb() agrees with parseCommand() on every event line it accepts", () => {
  let seed = 99;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const words = [
    "EVENT",
    "event",
    "BATCH_EVENT",
    "batch_event",
    "BYE",
    "LOGIN",
    " ",
    "s",
    "1",
    "x",
    "\0",
  ];
  for (let i = 0; i < 5000; i++) {
    let line = "";
    const count = Math.floor(random() * 6);
    for (let j = 0; j < count; j++) line += words[Math.floor(random() * words.length)];
    const parsed = parseCommand(line);
    const verb = eventVerb(utf8.encode(line));
    if (parsed.ok && (parsed.command.type === "EVENT" || parsed.command.type === "BATCH_EVENT")) {
      // No false negatives: every valid event line takes the fast path.
      assert.equal(verb, parsed.command.type, JSON.stringify(line));
    } else if (parsed.ok) {
      // No other valid command is mistaken for an event line.
      assert.equal(verb, null, JSON.stringify(line));
    }
  }
});

Deno.test("readEventLine() reads the common EVENT line as parseCommand does, and leaves every other line to it", () => {
  const parts = { stream: "", position: 0, message: "" };
  assert.equal(readEventLine("EVENT s1 10 hello  world ", null, parts), true);
  assert.deepEqual(parts, { stream: "s1", position: 10, message: "hello  world " });
  // A repeated stream key is the very string passed in.
  const key = "web-01.syslog";
  assert.equal(readEventLine("EVENT web-01.syslog 12 x", key, parts), true);
  assert.equal(parts.stream, key);
  for (
    const line of [
      "event s1 1 lower-case verb",
      "EVENT s1 1",
      "EVENT s1 1 ",
      "EVENT  1 empty stream",
      `EVENT ${"s".repeat(65)} 1 stream too long`,
      "EVENT s1 12345678901234567 too many digits",
      "EVENT s1 9999999999999999 beyond safe integers",
      "EVENT s1 1x2 not a number",
      "BATCH_EVENT other verb",
    ]
  ) {
    assert.equal(readEventLine(line, null, parts), false, line);
    if (line.startsWith("EVENT")) assert.equal(parseCommand(line).ok, false, line);
  }
  assert.equal(readEventLine("event s1 1 x", null, parts), false);
  assert.equal(parseCommand("event s1 1 x").ok, true, "left to parseCommand, which accepts it");
});

// --- encodeEventLine: the agent's byte-level fast path -----------------------------

Deno.test("encodeEventLine() writes the line formatCommand() formats, as UTF-8, and where it was told", () => {
  const cases: [string, number, string][] = [
    ["q8Jc0mRk3lq2wK0nTnVb3A", 0, "x"],
    ["s1", 9, "Nov 23 19:43:33 web-01 sshd[812]: Accepted publickey for deploy"],
    ["web-01.syslog:2", 10, "  spaces kept  "],
    ["s", 1234567890, "ünïcödé ✓"],
    ["s.gap", Number.MAX_SAFE_INTEGER, "nms-agent: gap: 5 bytes"],
  ];
  for (const [stream, position, message] of cases) {
    const streamBytes = utf8.encode(stream);
    const messageBytes = utf8.encode(message);
    const at = 3;
    const out = new Uint8Array(at + eventLineMaxBytes(streamBytes.length, messageBytes.length));
    const end = encodeEventLine(out, at, streamBytes, position, messageBytes);
    const line = formatCommand({ type: "EVENT", stream, position, message });
    assert.deepEqual(out.subarray(at, end), utf8.encode(line + "\n"), line);
    assert.deepEqual(out.subarray(0, at), new Uint8Array(at), "nothing written before `at`");
    assert.deepEqual(parsed(line), { type: "EVENT", stream, position, message });
  }
});

Deno.test("eventLineMaxBytes() leaves room for the longest position", () => {
  const stream = utf8.encode("s1");
  const message = utf8.encode("m");
  const out = new Uint8Array(eventLineMaxBytes(stream.length, message.length));
  const end = encodeEventLine(out, 0, stream, Number.MAX_SAFE_INTEGER, message);
  assert.ok(end <= out.length);
});

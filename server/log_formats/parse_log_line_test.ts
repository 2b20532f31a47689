import assert from "node:assert/strict";
import {
  type ParsedLine,
  parseLogLine,
  parsePaperIso,
  parseRfc3164,
  parseRfc5424,
  parseRsyslogIso,
} from "./mod.ts";

const RECEIVED_AT = Date.UTC(2026, 10, 23, 19, 44);

/** One realistic line per format, in the order parseLogLine tries them. */
const SAMPLES = {
  rfc5424: '<34>1 2026-11-23T19:43:33.123Z web-01 sshd 812 ID47 [exampleSDID@32473 iut="3" ' +
    'eventSource="App\\"x\\]\\\\"] \uFEFFFailed password for root',
  rfc3164:
    "Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2",
  cisco: "<189>123: *Nov 23 19:43:33.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
  rsyslog_iso:
    "2026-11-23T19:43:33.123456+00:00 web-01 sshd[812]: Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2: ED25519 SHA256:abc",
  paper_iso: "2025-12-11T16:00:00 sshd: session opened",
} as const;

/**
 * Checks the invariants every result must satisfy, whatever the input.
 *
 * @param p The result.
 * @param raw The input line.
 */
function assertWellFormed(p: ParsedLine, raw: string): void {
  assert.equal(typeof p.message, "string");
  assert.ok(["rfc5424", "rfc3164", "rsyslog_iso", "paper_iso", "raw"].includes(p.format));
  assert.ok(p.ts === null || Number.isFinite(p.ts), `ts ${p.ts}`);
  assert.ok(
    p.severity === null || (Number.isInteger(p.severity) && p.severity >= 0 && p.severity <= 7),
  );
  assert.ok(
    p.facility === null || (Number.isInteger(p.facility) && p.facility >= 0 && p.facility <= 23),
  );
  assert.ok(p.pid === null || (Number.isInteger(p.pid) && p.pid >= 0 && p.pid <= 2_147_483_647));
  assert.ok(p.host === null || (p.host.length > 0 && !p.host.includes(" ")));
  assert.ok(p.program === null || p.program.length > 0);
  // A message is the end of its line from messageStart (stores keep the offset), or -1.
  assert.ok(Number.isInteger(p.messageStart) && p.messageStart >= -1, `${p.messageStart}`);
  if (p.messageStart >= 0) {
    assert.equal(p.message, raw.slice(p.messageStart), "message is the line from messageStart");
  } else {
    assert.ok(raw.includes(p.message), "message is a part of the line");
  }
  if (p.format === "raw") {
    assert.equal(p.message, raw);
    assert.equal(p.ts, null);
    assert.equal(p.severity, null);
  }
}

/**
 * Parses a line with `parseLogLine` and, bypassing its defensive catch, with
 * each format parser directly, checking every result.
 *
 * @param raw The input line.
 * @param receivedAt Receive time.
 */
function checkAll(raw: string, receivedAt: number): void {
  assertWellFormed(parseLogLine(raw, receivedAt), raw);
  for (
    const p of [
      parseRfc5424(raw),
      parseRfc3164(raw, receivedAt),
      parseRsyslogIso(raw),
      parsePaperIso(raw),
    ]
  ) {
    if (p !== null) assertWellFormed(p, raw);
  }
}

Deno.test("parseLogLine() picks the right format for each sample", () => {
  assert.equal(parseLogLine(SAMPLES.rfc5424, RECEIVED_AT).format, "rfc5424");
  assert.equal(parseLogLine(SAMPLES.rfc3164, RECEIVED_AT).format, "rfc3164");
  assert.equal(parseLogLine(SAMPLES.cisco, RECEIVED_AT).format, "rfc3164");
  assert.equal(parseLogLine(SAMPLES.rsyslog_iso, RECEIVED_AT).format, "rsyslog_iso");
  assert.equal(parseLogLine(SAMPLES.paper_iso, RECEIVED_AT).format, "paper_iso");
  // With an offset but no hostname the line is the paper's, not rsyslog's.
  assert.equal(
    parseLogLine("2025-12-11T16:00:00Z sshd: session opened", RECEIVED_AT).format,
    "paper_iso",
  );
});

Deno.test("parseLogLine() falls back to raw with the whole line and null fields", () => {
  for (
    const raw of ["", "hello world", "GET / HTTP/1.1", "   ", "\0\0\0", "Feb 30 10:00:00 h p: x"]
  ) {
    assert.deepEqual(parseLogLine(raw, RECEIVED_AT), {
      ts: null,
      host: null,
      program: null,
      pid: null,
      severity: null,
      facility: null,
      message: raw,
      messageStart: 0,
      format: "raw",
    });
  }
});

Deno.test("parseLogLine() trims trailing NULs, CR, LF, tabs and spaces before parsing", () => {
  const p = parseLogLine(`${SAMPLES.cisco}\0\0\r\n \t`, RECEIVED_AT);
  assert.equal(p.format, "rfc3164");
  assert.equal(p.message, "Interface Gi0/1, changed state to down");
  assert.equal(
    parseLogLine("2025-12-11T16:00:00 sshd: session opened   ", RECEIVED_AT).message,
    "session opened",
  );
});

Deno.test("parseLogLine() skips a leading byte order mark", () => {
  const p = parseLogLine(`\uFEFF${SAMPLES.rfc3164}`, RECEIVED_AT);
  assert.equal(p.format, "rfc3164");
  assert.equal(p.host, "web-01");
  assert.equal(parseLogLine("\uFEFF", RECEIVED_AT).format, "raw");
});

Deno.test("parseLogLine() never throws on hostile input", () => {
  const hostile = [
    "\uFFFD\uFFFD\uFFFD",
    "\uD800",
    "<",
    "<1",
    "<1>",
    "<99999999999999999999>1 - - - - - -",
    "<34>1 99999-11-23T19:43:33Z h a - - -",
    "<34>1 2026-11-23T19:43:33.99999999999999999999Z h a - - -",
    "<34>1 - h a 99999999999999999999999 - -",
    "<34>1 - h a - - [",
    "<34>1 - h a - - [a",
    '<34>1 - h a - - [a b="\\',
    "Nov 23 19:43:33 h p[99999999999999999999999]: x",
    "Nov 23 19:43:33 h [1]: x",
    "Nov 23 19:43:33 h :",
    "<13>*",
    "<13>123:",
    "<13>123: *Nov",
    "<13>%LINK-9-X: y",
    "<13>%-3-X: y",
    "2025-12-11T16:00:00 [1]: x",
    "x".repeat(64 * 1024),
    "<34>1 - h a - - [" + "a".repeat(64 * 1024),
    "Nov 23 19:43:33 " + "h".repeat(64 * 1024),
    "2026-11-23T19:43:33Z " + "p".repeat(64 * 1024) + ":",
    "\0".repeat(64 * 1024),
  ];
  for (const raw of hostile) {
    for (const receivedAt of [RECEIVED_AT, NaN, Infinity, -1e20, 0]) {
      checkAll(raw, receivedAt);
    }
  }
});

Deno.test("parseLogLine() never throws on every prefix and on random mutations of real lines", () => {
  // Deterministic xorshift PRNG so a failure reproduces.
  let state = 0x9e3779b9;
  const random = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const alphabet = '<>[]"\\:-+.*%= 0123456789TZNov\0\uFFFD\uFEFF\uD800é';
  for (const sample of Object.values(SAMPLES)) {
    for (let end = 0; end <= sample.length; end++) {
      const raw = sample.slice(0, end);
      checkAll(raw, RECEIVED_AT);
    }
    for (let round = 0; round < 2000; round++) {
      const chars = sample.split("");
      for (let k = random(4) + 1; k > 0; k--) {
        const at = random(chars.length);
        const c = alphabet[random(alphabet.length)]!;
        if (random(3) === 0) chars.splice(at, 1);
        else if (random(2) === 0) chars.splice(at, 0, c);
        else chars[at] = c;
      }
      const raw = chars.join("");
      checkAll(raw, RECEIVED_AT);
    }
  }
});

Deno.test("parseLogLine() stays linear on 64 KiB lines", () => {
  const long = [
    "<34>1 2026-11-23T19:43:33Z h a - - " + '[a b="'.repeat(10_000),
    "Nov 23 19:43:33 web-01 sshd[812]: " + "a ".repeat(32 * 1024),
    "2025-12-11T16:00:00 " + "error ".repeat(10_000),
    "<13>" + "1".repeat(64 * 1024),
  ];
  const start = performance.now();
  for (let i = 0; i < 20; i++) for (const raw of long) parseLogLine(raw, RECEIVED_AT);
  assert.ok(performance.now() - start < 1000, `took ${performance.now() - start} ms`);
});

Deno.test("parseLogLine() reads an ISO time with a space and a numeric or named zone", () => {
  const now = Date.UTC(2026, 10, 23, 20);
  const mac = parseLogLine(
    "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: error: PAM: unknown user",
    now,
  );
  assert.equal(mac.ts, Date.UTC(2020, 2, 23, 13, 47, 42, 801));
  assert.equal(mac.host, "localhost");
  assert.equal(mac.program, "sshd");
  assert.equal(mac.pid, 3186);
  assert.equal(mac.message, "error: PAM: unknown user");
  const named = parseLogLine("2026-11-23 19:43:33 UTC web-01 cron[7]: job done", now);
  assert.equal(named.ts, Date.UTC(2026, 10, 23, 19, 43, 33));
  assert.equal(named.host, "web-01");
  assert.equal(named.program, "cron");
  const pri = parseLogLine("<13>2020-03-23 06:47:42+01:00 host app: x", now);
  assert.equal(pri.ts, Date.UTC(2020, 2, 23, 5, 47, 42));
  assert.equal(pri.program, "app");
  // Without a zone, a date and a time in free text are not a timestamp.
  assert.equal(parseLogLine("2025-12-11 16:00:00 disk almost full", now).format, "raw");
});

Deno.test("parseLogLine() accepts a space after the PRI, as rsyslog does", () => {
  const p = parseLogLine("<38> Mar  7 19:06:53 example tag: msg", Date.UTC(2026, 2, 8));
  assert.equal(p.format, "rfc3164");
  assert.equal(p.ts, Date.UTC(2026, 2, 7, 19, 6, 53));
  assert.equal(p.host, "example");
  assert.equal(p.program, "tag");
  assert.equal(p.message, "msg");
  assert.equal(p.facility, 4);
  assert.equal(p.severity, 6);
});

Deno.test("parseLogLine() keeps the valid PRI of a malformed RFC 5424 line", () => {
  for (const line of ["<1>1 - - …", "<134>1 - - x", "<1>1 2026-13-45T99:00:00Z h a - - m"]) {
    const p = parseLogLine(line, Date.UTC(2026, 10, 23));
    assert.equal(p.facility, line.startsWith("<134>") ? 16 : 0, line);
    assert.equal(p.severity, line.startsWith("<134>") ? 6 : 1, line);
  }
});

Deno.test("parseLogLine() reads BusyBox's facility.level token and Solaris's [ID ...] prefix", () => {
  const now = Date.UTC(2026, 10, 23, 20);
  const alpine = parseLogLine(
    "Nov 23 19:43:33 alpine auth.info sshd[812]: Failed password for root from 192.0.2.1 port 22 ssh2",
    now,
  );
  assert.equal(alpine.host, "alpine");
  assert.equal(alpine.program, "sshd");
  assert.equal(alpine.facility, 4);
  assert.equal(alpine.severity, 6);
  assert.equal(alpine.message, "Failed password for root from 192.0.2.1 port 22 ssh2");
  const solaris = parseLogLine(
    "Aug 18 07:30:25 192.0.2.5 sshd[20247]: [ID 800047 auth.notice] Failed none for root from 192.0.2.1 port 36942 ssh2",
    now,
  );
  assert.equal(solaris.program, "sshd");
  assert.equal(solaris.facility, 4);
  assert.equal(solaris.severity, 5);
  assert.equal(solaris.message, "Failed none for root from 192.0.2.1 port 36942 ssh2");
  // A hostname-looking token that is no facility.level stays message text.
  const other = parseLogLine("Nov 23 19:43:33 host constructor.info x", now);
  assert.equal(other.program, null);
  assert.equal(other.message, "constructor.info x");
});

import assert from "node:assert/strict";
import { parseRfc5424 } from "./rfc5424.ts";

Deno.test("parseRfc5424() splits the header, structured data and message of a full line", () => {
  const line = '<34>1 2026-11-23T19:43:33.123Z web-01 sshd 812 ID47 [exampleSDID@32473 iut="3"] ' +
    "Failed password for root";
  assert.deepEqual(parseRfc5424(line), {
    ts: Date.UTC(2026, 10, 23, 19, 43, 33, 123),
    host: "web-01",
    program: "sshd",
    pid: 812,
    severity: 2,
    facility: 4,
    message: "Failed password for root",
    messageStart: 80,
    format: "rfc5424",
    extra: { msgid: "ID47", structuredData: '[exampleSDID@32473 iut="3"]' },
  });
});

Deno.test("parseRfc5424() reads the RFC 5424 §6.5 examples", () => {
  const a = parseRfc5424(
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
  );
  assert.equal(a?.ts, Date.UTC(2003, 9, 11, 22, 14, 15, 3));
  assert.equal(a?.host, "mymachine.example.com");
  assert.equal(a?.program, "su");
  assert.equal(a?.pid, null);
  assert.equal(a?.message, "'su root' failed for lonvick on /dev/pts/8", "BOM is dropped");
  assert.deepEqual(a?.extra, { msgid: "ID47" });

  const b = parseRfc5424(
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
  );
  assert.equal(b?.ts, Date.UTC(2003, 7, 24, 12, 14, 15, 0), "offset -07:00 applied, µs dropped");
  assert.equal(b?.facility, 20);
  assert.equal(b?.severity, 5);
  assert.equal(b?.pid, 8710);
  assert.equal(b?.message, "%% It's time to make the do-nuts.");
  assert.equal(b?.extra, undefined);

  const c = parseRfc5424(
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" ' +
      'eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
  );
  assert.equal(c?.message, "");
  assert.equal(
    c?.extra?.structuredData,
    '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
  );
});

Deno.test("parseRfc5424() keeps escaped quote, bracket and backslash inside SD values", () => {
  const sd = String.raw`[meta@1 path="C:\\temp\\x" quote="say \"hi\"" br="a\]b"]`;
  const p = parseRfc5424(`<14>1 2026-11-23T19:43:33+01:00 host app - - ${sd} done`);
  assert.equal(p?.extra?.structuredData, sd);
  assert.equal(p?.message, "done");
  assert.equal(p?.ts, Date.UTC(2026, 10, 23, 18, 43, 33));
});

Deno.test("parseRfc5424() reads every nil header field as null", () => {
  assert.deepEqual(parseRfc5424("<13>1 - - - - - -"), {
    ts: null,
    host: null,
    program: null,
    pid: null,
    severity: 5,
    facility: 1,
    message: "",
    messageStart: 17,
    format: "rfc5424",
  });
});

Deno.test("parseRfc5424() gives pid null for a non-numeric PROCID", () => {
  const p = parseRfc5424("<30>1 2026-11-23T19:43:33Z web-01 app worker-3 - - started");
  assert.equal(p?.pid, null);
  assert.equal(p?.program, "app");
  assert.equal(p?.facility, 3);
  assert.equal(p?.severity, 6);
});

Deno.test("parseRfc5424() keeps the header when the structured data is malformed", () => {
  const p = parseRfc5424('<13>1 2026-11-23T19:43:33Z host app 1 - [bad "x"] text');
  assert.equal(p?.format, "rfc5424");
  assert.equal(p?.host, "host");
  assert.equal(p?.message, '[bad "x"] text');
  assert.equal(p?.extra, undefined);
  assert.equal(parseRfc5424('<13>1 - h a 1 - [id k="unterminated')?.message, '[id k="unterminated');
});

Deno.test("parseRfc5424() accepts a timestamp without offset as UTC", () => {
  assert.equal(
    parseRfc5424("<13>1 2026-11-23T19:43:33 host app - - - x")?.ts,
    Date.UTC(2026, 10, 23, 19, 43, 33),
  );
});

Deno.test("parseRfc5424() rejects lines that are not RFC 5424", () => {
  for (
    const line of [
      "",
      "<",
      "<34>",
      "<192>1 - - - - - -", // PRI above 191
      "<1234>1 - - - - - -",
      "<34>0 - - - - - -", // version 0
      "<34>1 2026-02-30T00:00:00Z h a - - -", // Feb 30
      "<34>1 2026-11-23T25:00:00Z h a - - -", // hour 25
      "<34>1 2026-11-23T19:43:33+24:00 h a - - -", // offset hour 24
      "<34>1 - h a - -", // missing SD
      "<13>Nov 23 19:43:33 web-01 sshd[1]: x", // RFC 3164
      "<34>1 - h\u00e9 a - - -", // non-ASCII hostname
      `<34>1 - ${"h".repeat(256)} a - - -`, // hostname too long
      `<34>1 - h ${"a".repeat(49)} - - -`, // app-name too long
      `<34>1 - h a - ${"m".repeat(33)} -`, // msgid too long
    ]
  ) {
    assert.equal(parseRfc5424(line), null, line);
  }
});

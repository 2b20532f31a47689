import assert from "node:assert/strict";
import { parseRfc3164 } from "./rfc3164.ts";

/** Receive time of most samples: shortly after they were written. */
const NOV_2026 = Date.UTC(2026, 10, 23, 19, 44);

Deno.test("parseRfc3164() splits an auth.log line from sshd", () => {
  assert.deepEqual(
    parseRfc3164(
      "Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2",
      NOV_2026,
    ),
    {
      ts: Date.UTC(2026, 10, 23, 19, 43, 33),
      host: "web-01",
      program: "sshd",
      pid: 812,
      severity: 3,
      facility: null,
      message: "Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2",
      messageStart: 34,
      format: "rfc3164",
    },
  );
});

Deno.test("parseRfc3164() reads the tags found in /var/log/syslog and auth.log", () => {
  const cases: [string, string, number | null, string][] = [
    [
      "Nov 23 19:43:33 web-01 kernel: [ 12.345678] e1000e: eth0 NIC Link is Up",
      "kernel",
      null,
      "[ 12.345678] e1000e: eth0 NIC Link is Up",
    ],
    [
      "Nov 23 19:17:01 web-01 CRON[123]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
      "CRON",
      123,
      "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
    ],
    [
      "Nov 23 19:43:33 web-01 systemd[1]: Started Session 7 of User deploy.",
      "systemd",
      1,
      "Started Session 7 of User deploy.",
    ],
    [
      "Nov 23 19:43:33 web-01 sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
      "sudo",
      null,
      "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
    ],
    [
      "Nov 23 19:43:33 web-01 su[123]: (to root) alice on pts/0",
      "su",
      123,
      "(to root) alice on pts/0",
    ],
    [
      "Nov 23 19:43:33 mail postfix/smtpd[99]: connect from unknown[203.0.113.9]",
      "postfix/smtpd",
      99,
      "connect from unknown[203.0.113.9]",
    ],
    [
      "Nov 23 19:43:33 web-01 systemd-logind[642]: New session 7 of user deploy.",
      "systemd-logind",
      642,
      "New session 7 of user deploy.",
    ],
    [
      "Nov 23 19:43:33 web-01 org.gnome.Shell.desktop[2011]: Window manager warning: x",
      "org.gnome.Shell.desktop",
      2011,
      "Window manager warning: x",
    ],
    ["Nov 23 19:43:33 web-01 sshd[812]:", "sshd", 812, ""],
  ];
  for (const [line, program, pid, message] of cases) {
    const p = parseRfc3164(line, NOV_2026);
    assert.equal(p?.host, line.startsWith("Nov 23 19:43:33 mail") ? "mail" : "web-01", line);
    assert.equal(p?.program, program, line);
    assert.equal(p?.pid, pid, line);
    assert.equal(p?.message, message, line);
  }
});

Deno.test("parseRfc3164() reads space-padded, zero-padded and unpadded days", () => {
  const want = Date.UTC(2026, 10, 3, 9, 5, 7);
  assert.equal(parseRfc3164("Nov  3 09:05:07 web-01 kernel: x", NOV_2026)?.ts, want);
  assert.equal(parseRfc3164("Nov 03 09:05:07 web-01 kernel: x", NOV_2026)?.ts, want);
  assert.equal(parseRfc3164("Nov 3 09:05:07 web-01 kernel: x", NOV_2026)?.ts, want);
});

Deno.test("parseRfc3164() takes the year from receivedAt and steps back for December lines in January", () => {
  const jan2 = Date.UTC(2027, 0, 2, 0, 0, 5);
  assert.equal(
    parseRfc3164("Dec 31 23:59:59 h p: x", jan2)?.ts,
    Date.UTC(2026, 11, 31, 23, 59, 59),
  );
  assert.equal(parseRfc3164("Jan  2 00:00:01 h p: x", jan2)?.ts, Date.UTC(2027, 0, 2, 0, 0, 1));
  // A sender clock up to one month fast stays in the receive year...
  assert.equal(parseRfc3164("Feb  1 00:00:00 h p: x", jan2)?.ts, Date.UTC(2027, 1, 1));
  // ...further ahead is last year.
  assert.equal(parseRfc3164("Mar  1 00:00:00 h p: x", jan2)?.ts, Date.UTC(2026, 2, 1));
  // A January line received in December comes from a clock that already turned the year.
  assert.equal(
    parseRfc3164("Jan  1 00:00:02 h p: x", Date.UTC(2026, 11, 31, 23, 59, 59))?.ts,
    Date.UTC(2027, 0, 1, 0, 0, 2),
  );
  assert.equal(
    parseRfc3164("Dec 31 23:59:59 h p: x", NOV_2026)?.ts,
    Date.UTC(2026, 11, 31, 23, 59, 59),
  );
});

Deno.test("parseRfc3164() accepts Feb 29 only in a leap year", () => {
  assert.equal(
    parseRfc3164("Feb 29 12:00:00 h p: x", Date.UTC(2028, 2, 1))?.ts,
    Date.UTC(2028, 1, 29, 12),
  );
  assert.equal(parseRfc3164("Feb 29 12:00:00 h p: x", Date.UTC(2027, 2, 1)), null);
});

Deno.test("parseRfc3164() parses the fields but no ts when receivedAt is not a time", () => {
  const p = parseRfc3164("Nov 23 19:43:33 web-01 sshd[812]: x", NaN);
  assert.equal(p?.ts, null);
  assert.equal(p?.program, "sshd");
});

Deno.test("parseRfc3164() takes facility and severity from a leading PRI", () => {
  const p = parseRfc3164(
    "<38>Nov 23 19:43:33 web-01 sshd[812]: Failed password for root",
    NOV_2026,
  );
  assert.equal(p?.facility, 4);
  assert.equal(p?.severity, 6, "PRI wins over keyword inference");
  assert.equal(p?.host, "web-01");
  assert.equal(parseRfc3164("<0>Nov 23 19:43:33 h kernel: x", NOV_2026)?.severity, 0);
  assert.equal(parseRfc3164("<191>Nov 23 19:43:33 h kernel: x", NOV_2026)?.facility, 23);
});

Deno.test("parseRfc3164() accepts a PRI line without hostname", () => {
  assert.deepEqual(parseRfc3164("<13>Nov 23 19:43:33 sshd[1]: x", NOV_2026), {
    ts: Date.UTC(2026, 10, 23, 19, 43, 33),
    host: null,
    program: "sshd",
    pid: 1,
    severity: 5,
    facility: 1,
    message: "x",
    messageStart: 29,
    format: "rfc3164",
  });
});

Deno.test("parseRfc3164() accepts a PRI line with an ISO timestamp", () => {
  const p = parseRfc3164("<13>2026-11-23T19:43:33Z host prog: x", NOV_2026);
  assert.equal(p?.ts, Date.UTC(2026, 10, 23, 19, 43, 33));
  assert.equal(p?.host, "host");
  assert.equal(p?.program, "prog");
  assert.equal(p?.message, "x");
  const q = parseRfc3164(
    "<30>2026-11-23T20:43:33.5+01:00 nas dhcpd[77]: DHCPACK on 10.0.0.5",
    NOV_2026,
  );
  assert.equal(q?.ts, Date.UTC(2026, 10, 23, 19, 43, 33, 500));
  assert.equal(q?.pid, 77);
});

Deno.test("parseRfc3164() accepts a PRI line without timestamp, as RFC 3164 §4.3.3 allows", () => {
  const p = parseRfc3164("<13>sshd[1]: hello", NOV_2026);
  assert.equal(p?.ts, null);
  assert.equal(p?.host, null);
  assert.equal(p?.program, "sshd");
  const q = parseRfc3164("<13>hello world", NOV_2026);
  assert.equal(q?.program, null);
  assert.equal(q?.host, null, "no hostname without timestamp");
  assert.equal(q?.message, "hello world");
});

Deno.test("parseRfc3164() reads Cisco sequence numbers, clock markers, milliseconds and mnemonics", () => {
  const p = parseRfc3164(
    "<189>123: *Nov 23 19:43:33.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
    NOV_2026,
  );
  assert.deepEqual(p, {
    ts: Date.UTC(2026, 10, 23, 19, 43, 33, 123),
    host: null,
    program: "LINK",
    pid: null,
    severity: 3,
    facility: 23,
    message: "Interface Gi0/1, changed state to down",
    messageStart: 48,
    format: "rfc3164",
    extra: { msgid: "%LINK-3-UPDOWN" },
  });

  const lostSync = parseRfc3164(
    "<187>45: .Nov 23 19:43:33.123 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to up",
    NOV_2026,
  );
  assert.equal(lostSync?.ts, Date.UTC(2026, 10, 23, 19, 43, 33, 123));
  assert.equal(lostSync?.program, "LINEPROTO");
  assert.equal(lostSync?.severity, 5);

  const withYear = parseRfc3164(
    "<189>7: Nov 23 2025 19:43:33: %SYS-5-CONFIG_I: Configured from console by admin on vty0",
    NOV_2026,
  );
  assert.equal(withYear?.ts, Date.UTC(2025, 10, 23, 19, 43, 33), "explicit year wins");
  assert.equal(withYear?.extra?.msgid, "%SYS-5-CONFIG_I");

  const noTime = parseRfc3164(
    "<189>123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
    NOV_2026,
  );
  assert.equal(noTime?.ts, null);
  assert.equal(noTime?.program, "LINK");

  const viaHost = parseRfc3164(
    "<166>Nov 23 19:43:33 fw-01 %ASA-6-302013: Built inbound TCP connection 1 for outside:203.0.113.7/443",
    NOV_2026,
  );
  assert.equal(viaHost?.host, "fw-01");
  assert.equal(viaHost?.program, "ASA");
  assert.equal(viaHost?.severity, 6);

  const xr = parseRfc3164(
    "<187>Nov 23 19:43:33 rtr %PKT_INFRA-LINK-3-UPDOWN: Interface x, changed state to Down",
    NOV_2026,
  );
  assert.equal(xr?.program, "PKT_INFRA-LINK");
  assert.equal(xr?.severity, 3);
});

Deno.test("parseRfc3164() keeps non-tag text after the hostname as the message", () => {
  const p = parseRfc3164(
    "Nov 23 19:43:33 web-01 message repeated 3 times: [ Failed password for root]",
    NOV_2026,
  );
  assert.equal(p?.host, "web-01");
  assert.equal(p?.program, null);
  assert.equal(p?.message, "message repeated 3 times: [ Failed password for root]");
  assert.equal(p?.severity, 3);
  const mark = parseRfc3164("Nov 23 19:43:33 web-01 -- MARK --", NOV_2026);
  assert.equal(mark?.message, "-- MARK --");
  const hostOnly = parseRfc3164("Nov 23 19:43:33 web-01", NOV_2026);
  assert.equal(hostOnly?.host, "web-01");
  assert.equal(hostOnly?.message, "");
});

Deno.test("parseRfc3164() does not take bracketed non-numbers as pids", () => {
  const p = parseRfc3164("Nov 23 19:43:33 h app[worker]: x", NOV_2026);
  assert.equal(p?.program, "app");
  assert.equal(p?.pid, null);
  assert.equal(parseRfc3164("Nov 23 19:43:33 h app[99999999999]: x", NOV_2026)?.pid, null);
});

Deno.test("parseRfc3164() rejects impossible dates and lines that are not BSD syslog", () => {
  for (
    const line of [
      "",
      "Feb 30 10:00:00 web-01 kernel: x",
      "Nov 23 25:00:00 web-01 kernel: x",
      "Nov 23 19:60:00 web-01 kernel: x",
      "Nov 32 19:43:33 web-01 kernel: x",
      "Nov 23 19:43 web-01 kernel: x",
      "Nov 23 19:43:33web-01 kernel: x",
      "November 23 19:43:33 web-01 kernel: x",
      "Error: something happened",
      "2026-11-23T19:43:33Z web-01 sshd[1]: x", // ISO without PRI is rsyslog_iso/paper_iso
      "<13>2026-02-30T00:00:00Z host prog: x",
      "<13>Feb 30 10:00:00 host prog: x",
      "<192>Nov 23 19:43:33 h p: x",
      "<>Nov 23 19:43:33 h p: x",
      "<html><body>",
      "nov 23 19:43:33 h p: x",
    ]
  ) {
    assert.equal(parseRfc3164(line, NOV_2026), null, line);
  }
});

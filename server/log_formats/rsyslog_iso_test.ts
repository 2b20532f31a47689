import assert from "node:assert/strict";
import { parseRsyslogIso } from "./rsyslog_iso.ts";

Deno.test("parseRsyslogIso() splits a RSYSLOG_FileFormat line", () => {
  assert.deepEqual(
    parseRsyslogIso(
      "2026-11-23T19:43:33.123456+00:00 web-01 sshd[812]: Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2: ED25519 SHA256:abc",
    ),
    {
      ts: Date.UTC(2026, 10, 23, 19, 43, 33, 123),
      host: "web-01",
      program: "sshd",
      pid: 812,
      severity: 6,
      facility: null,
      message:
        "Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2: ED25519 SHA256:abc",
      messageStart: 51,
      format: "rsyslog_iso",
    },
  );
});

Deno.test("parseRsyslogIso() applies the offset and reads realistic tags", () => {
  const cases: [string, number, string, number | null, string, number][] = [
    [
      "2026-11-23T20:43:33.000001+01:00 db-02 kernel: [98765.4321] Out of memory: Killed process 4242 (postgres)",
      Date.UTC(2026, 10, 23, 19, 43, 33),
      "kernel",
      null,
      "[98765.4321] Out of memory: Killed process 4242 (postgres)",
      3,
    ],
    [
      "2026-11-23T14:43:33.5-05:00 web-01 CRON[2211]: pam_unix(cron:session): session closed for user root",
      Date.UTC(2026, 10, 23, 19, 43, 33, 500),
      "CRON",
      2211,
      "pam_unix(cron:session): session closed for user root",
      6,
    ],
    [
      "2026-11-23T19:43:33Z web-01 systemd[1]: Starting Daily apt upgrade and clean activities...",
      Date.UTC(2026, 10, 23, 19, 43, 33),
      "systemd",
      1,
      "Starting Daily apt upgrade and clean activities...",
      6,
    ],
    [
      "2026-11-23T19:43:33.999999+0000 web-01 nginx: 2026/11/23 19:43:33 [warn] 77#77: upstream slow",
      Date.UTC(2026, 10, 23, 19, 43, 33, 999),
      "nginx",
      null,
      "2026/11/23 19:43:33 [warn] 77#77: upstream slow",
      4,
    ],
  ];
  for (const [line, ts, program, pid, message, severity] of cases) {
    const p = parseRsyslogIso(line);
    assert.equal(p?.ts, ts, line);
    assert.equal(p?.program, program, line);
    assert.equal(p?.pid, pid, line);
    assert.equal(p?.message, message, line);
    assert.equal(p?.severity, severity, line);
  }
});

Deno.test("parseRsyslogIso() leaves lines without offset, hostname or tag to other formats", () => {
  for (
    const line of [
      "",
      "2026-11-23T19:43:33.123456 web-01 sshd[812]: no offset",
      "2026-11-23T19:43:33Z sshd: no hostname",
      "2026-11-23T19:43:33Z web-01 no tag here",
      "2026-11-23T19:43:33Z web-01",
      "2026-11-31T19:43:33Z web-01 sshd[1]: Nov 31",
      "2026-11-23T24:00:00Z web-01 sshd[1]: hour 24",
      "2026-11-23T19:43:33.1234567890Z web-01 sshd[1]: ten fraction digits",
      "2026-11-23T19:43:33Zweb-01 sshd[1]: x",
      "Nov 23 19:43:33 web-01 sshd[812]: x",
    ]
  ) {
    assert.equal(parseRsyslogIso(line), null, line);
  }
});

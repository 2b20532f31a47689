/**
 * Micro-benchmarks of `parseLogLine` on one realistic line per format,
 * against the cost of finding the first space in the same line (the least
 * work any parser must do).
 *
 * Run: `deno bench server/log_formats/parse_bench.ts`
 *
 * @module
 */

import { inferSeverity, parseLogLine } from "./mod.ts";

const RECEIVED_AT = Date.UTC(2026, 10, 23, 19, 44);

const RFC5424 = '<34>1 2026-11-23T19:43:33.123Z web-01 sshd 812 ID47 [exampleSDID@32473 iut="3"] ' +
  "Failed password for root";
const RFC3164 =
  "Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2";
const CISCO =
  "<189>123: *Nov 23 19:43:33.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down";
const RSYSLOG_ISO =
  "2026-11-23T19:43:33.123456+00:00 web-01 sshd[812]: Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2: ED25519 SHA256:abc";
const PAPER_ISO = "2025-12-11T16:00:00 sshd: session opened";
const RAW = "GET /index.html HTTP/1.1 200 5120 - Mozilla/5.0 (X11; Linux x86_64)";

// Results go here so the engine cannot drop the work as dead code.
let sink = 0;

Deno.bench({
  name: 'baseline: raw.indexOf(" ")',
  group: "parse",
  baseline: true,
  fn() {
    sink += RFC3164.indexOf(" ");
  },
});

for (
  const [name, line] of [
    ["rfc5424", RFC5424],
    ["rfc3164", RFC3164],
    ["rfc3164 cisco", CISCO],
    ["rsyslog_iso", RSYSLOG_ISO],
    ["paper_iso", PAPER_ISO],
    ["raw fallback", RAW],
  ] as const
) {
  Deno.bench({
    name: `parseLogLine ${name}`,
    group: "parse",
    fn() {
      sink += parseLogLine(line, RECEIVED_AT).message.length;
    },
  });
}

Deno.bench({
  name: "inferSeverity (no keyword: prefilter only)",
  group: "severity",
  baseline: true,
  fn() {
    sink += inferSeverity("Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2");
  },
});

Deno.bench({
  name: "inferSeverity (error keyword)",
  group: "severity",
  fn() {
    sink += inferSeverity(
      "Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2",
    );
  },
});

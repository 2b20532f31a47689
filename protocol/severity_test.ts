import assert from "node:assert/strict";
import {
  DEFAULT_INFERRED_SEVERITY,
  inferSeverity,
  SEVERITY,
  SEVERITY_KEYWORDS,
  SEVERITY_RULES,
  severityByName,
} from "./severity.ts";

Deno.test("inferSeverity() maps realistic messages to the documented levels", () => {
  const cases: [string, number][] = [
    ["Kernel panic - not syncing: VFS: Unable to mount root fs", SEVERITY.emergency],
    ["EMERGENCY: power supply failed", SEVERITY.emergency],
    ["FATAL: the database system is shutting down", SEVERITY.critical],
    ["critical temperature reached on CPU0", SEVERITY.critical],
    ["Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2", SEVERITY.error],
    ["pam_unix(sudo:auth): authentication failure; logname= uid=1000", SEVERITY.error],
    ["Permission denied (publickey)", SEVERITY.error],
    ["nginx[1234]: segfault at 0 ip 00007f sp 00007ffd error 4", SEVERITY.error],
    ["Out of memory: Killed process 4242 (java)", SEVERITY.error],
    ["oom-kill:constraint=CONSTRAINT_NONE", SEVERITY.error],
    ['ERROR: relation "users" does not exist', SEVERITY.error],
    ["WARNING: low disk space on /var", SEVERITY.warning],
    ["[warn] deprecated option", SEVERITY.warning],
    ["DEBUG request id=42", SEVERITY.debug],
    ["[debug] cache hit ratio 0.93", SEVERITY.debug],
    ['ts=2025-12-11 level=debug msg="tick"', SEVERITY.debug],
    ["Accepted publickey for deploy from 198.51.100.4 port 50022 ssh2", SEVERITY.informational],
    ["pam_unix(cron:session): session opened for user root", SEVERITY.informational],
    ["", DEFAULT_INFERRED_SEVERITY],
  ];
  for (const [message, severity] of cases) assert.equal(inferSeverity(message), severity, message);
});

Deno.test("inferSeverity() matches whole words only, conservatively", () => {
  for (
    const message of [
      "0 errors, 0 warnings", // plurals are not levels
      "err=0 status ok",
      "mounted debugfs on /sys/kernel/debug",
      "Started Debug Shell on tty9.",
      "stderr redirected",
      "TLS alert received: close notify",
      "failedover=false",
      "zoom meeting started",
    ]
  ) {
    assert.equal(inferSeverity(message), SEVERITY.informational, message);
  }
});

Deno.test("inferSeverity() lets the most severe matching rule win", () => {
  assert.equal(inferSeverity("warning: failed to open file"), SEVERITY.error);
  assert.equal(inferSeverity("debug: kernel panic simulated"), SEVERITY.emergency);
});

Deno.test("SEVERITY_RULES are ordered from most to least severe and are not global", () => {
  for (let i = 1; i < SEVERITY_RULES.length; i++) {
    assert.ok(SEVERITY_RULES[i - 1]!.severity < SEVERITY_RULES[i]!.severity);
  }
  for (const rule of SEVERITY_RULES) assert.ok(!rule.pattern.global && !rule.pattern.sticky);
});

Deno.test("inferSeverity() is linear on a 64 KiB message", () => {
  const message = "a".repeat(64 * 1024);
  const start = performance.now();
  assert.equal(inferSeverity(message), SEVERITY.informational);
  assert.ok(performance.now() - start < 200);
});

Deno.test("severityByName() knows syslog's keywords and common spellings, and nothing inherited", () => {
  assert.equal(severityByName("WARN"), 4);
  assert.equal(severityByName("panic"), 0);
  assert.equal(severityByName("informational"), 6);
  assert.equal(severityByName("constructor"), undefined);
  assert.equal(severityByName("verbose"), undefined);
  SEVERITY_KEYWORDS.forEach((keyword, level) => assert.equal(severityByName(keyword), level));
});

Deno.test("SEVERITY_KEYWORDS abbreviates RFC 5424's severity names, in their numeric order", () => {
  assert.equal(SEVERITY_KEYWORDS.length, Object.keys(SEVERITY).length);
  for (const [name, level] of Object.entries(SEVERITY)) {
    const keyword = SEVERITY_KEYWORDS[level]!;
    assert.ok(name.startsWith(keyword), `${level}: ${keyword} for ${name}`);
  }
});

/**
 * The built-in rules against real log lines, written by the project in the
 * exact forms current systems print them: Debian 12 (rsyslog, `sshd`),
 * Debian 13 and RHEL 10 (OpenSSH 9.8+ logs as `sshd-session`; rsyslog's ISO
 * file format), RHEL 9 (`/var/log/secure`), Alpine (BusyBox syslogd's
 * `auth.info` token), and the older Solaris (`[ID 800047 auth.notice]`),
 * BSD and `su(pam_unix)` forms. Each rule has lines it must match, with the
 * fields it must capture, and near-misses it must not.
 */

import assert from "node:assert/strict";
import { parseLogLine } from "../log_formats/mod.ts";
import { loginFields, SECURITY_EVENT_KINDS, securityEvent } from "../security_event.ts";
import { BUILTIN_RULE_IDS as R, BUILTIN_RULES, RENUMBERED_RULE_IDS } from "./builtin_rules.ts";
import { emptyMatches, RuleEngine } from "./engine.ts";
import { linearRegexSupport } from "./linear_regex.ts";
import { matchBatch } from "./match_batch.ts";
import { agentRegisteredEvent, agentSilentEvent } from "./nms_events.ts";
import { buildRuleSet, isCorrelationRule, NMS_RULE_IDS } from "./rule.ts";

const ruleSet = buildRuleSet([], BUILTIN_RULES);
const engine = new RuleEngine(ruleSet);
const RECEIVED = Date.UTC(2026, 10, 23, 20, 0, 0);

/** The final, alerting or silencing, stateless matches of a line (correlation candidates left out). */
function matches(line: string): { rule: number; fields: Record<string, string> }[] {
  const parsed = parseLogLine(line, RECEIVED);
  const sink = emptyMatches();
  engine.match(0, parsed.program, parsed.message, parsed.severity ?? -1, sink);
  return sink.rule.map((rule, k) => ({ rule, fields: sink.fields[k] ?? {} }))
    .filter((m) => !isCorrelationRule(engine.rule(m.rule)!));
}

/** Asserts that `line` raises exactly `rule` (and nothing else), with these fields. */
function only(line: string, rule: number, fields: Record<string, string> = {}): void {
  const found = matches(line);
  assert.deepEqual(
    found.map((m) => m.rule),
    [rule],
    `${line} should match rule ${rule} alone: ${JSON.stringify(found)}`,
  );
  for (const [name, value] of Object.entries(fields)) {
    assert.equal(found[0]!.fields[name], value, `${name} of ${line}`);
  }
}

/** Asserts that `line` raises none of `rules` (a near-miss). */
function not(line: string, ...rules: number[]): void {
  const found = matches(line).map((m) => m.rule);
  for (const rule of rules) assert.ok(!found.includes(rule), `${line} must not match ${rule}`);
}

/** Asserts that `line` raises nothing that alerts (level > 0). */
function silent(line: string): void {
  const alerting = matches(line).filter((m) => engine.rule(m.rule)!.level > 0);
  assert.deepEqual(alerting, [], line);
}

/** Headers of the systems the samples come from. */
const DEBIAN12 = "Nov 23 19:43:33 web-01 sshd[812]: ";
const DEBIAN13 = "2026-11-23T19:43:33.123456+00:00 web-01 sshd-session[812]: ";
const RHEL9 = "Nov 23 19:43:33 rhel9 sshd[4411]: ";
const RHEL10 = "Nov 23 19:43:33 rhel10 sshd-session[4411]: ";
const ALPINE = "Nov 23 19:43:33 alpine auth.info sshd[812]: ";
const SOLARIS = "Nov 23 19:43:33 192.0.2.5 sshd[20247]: [ID 800047 auth.notice] ";
const SSHD_HEADERS = [DEBIAN12, DEBIAN13, RHEL9, RHEL10, ALPINE, SOLARIS];

Deno.test("BUILTIN_RULES validate, have unique ids, and use Wazuh ids or NMS's own range", () => {
  assert.equal(ruleSet.rules.length, BUILTIN_RULES.length);
  assert.equal(new Set(BUILTIN_RULES.map((r) => r.id)).size, BUILTIN_RULES.length);
  for (const rule of BUILTIN_RULES) {
    const wazuh = rule.id < 100_000;
    const own = rule.id >= NMS_RULE_IDS.first && rule.id <= NMS_RULE_IDS.last;
    assert.ok(wazuh || own, `rule ${rule.id} is in neither range`);
  }
  // Every renumbered id goes to a rule that exists.
  for (const [, now] of RENUMBERED_RULE_IDS) assert.ok(engine.rule(now), String(now));
});

Deno.test("every built-in regex runs under V8's linear-time engine", {
  ignore: !linearRegexSupport().linearFlag,
}, () => {
  for (const rule of BUILTIN_RULES) {
    if (rule.match.regex === undefined) continue;
    assert.doesNotThrow(() => new RegExp(rule.match.regex!, "l"), `rule ${rule.id}`);
  }
});

Deno.test("sshd 5710/5760: non-existent users, on every system's header", () => {
  for (const h of SSHD_HEADERS) {
    only(`${h}Invalid user oracle from 198.51.100.23 port 40022`, R.sshdInvalidUser, {
      user: "oracle",
      srcip: "198.51.100.23",
    });
    only(
      `${h}Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2`,
      R.sshdPasswordFailed,
      { user: "admin", srcip: "203.0.113.7" },
    );
  }
  const h = DEBIAN12;
  only(`${h}Invalid user  from 198.51.100.23 port 40023`, R.sshdInvalidUser, { user: "" });
  only(`${h}Invalid user test from 198.51.100.23`, R.sshdInvalidUser, { user: "test" });
  only(`${h}Illegal user test from 198.51.100.23`, R.sshdInvalidUser, { user: "test" });
  only(
    `${h}Postponed keyboard-interactive for invalid user warez from 192.0.2.101 port 54197 ssh2 [preauth]`,
    R.sshdInvalidUser,
    { user: "warez", srcip: "192.0.2.101" },
  );
  only(
    `${h}Disconnected from invalid user test 203.0.113.7 port 33000 [preauth]`,
    R.sshdInvalidUser,
    { user: "test", srcip: "203.0.113.7" },
  );
  only(
    `${h}Connection closed by invalid user admin 203.0.113.7 port 33001 [preauth]`,
    R.sshdInvalidUser,
    { user: "admin", srcip: "203.0.113.7" },
  );
  only(
    `${h}Disconnecting invalid user root 203.0.113.7 port 33002: Too many authentication failures [preauth]`,
    R.sshdInvalidUser,
    { user: "root", srcip: "203.0.113.7" },
  );
  only(
    `${h}Failed keyboard-interactive/pam for invalid user user from 172.18.1.1 port 32982 ssh2`,
    R.sshdPasswordFailed,
    { user: "user", srcip: "172.18.1.1" },
  );
  // macOS/old PAM forms.
  only(
    "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: error: PAM: unknown user for illegal user badguy from 192.168.33.1",
    R.sshdInvalidUser,
    { user: "badguy", srcip: "192.168.33.1" },
  );
  // Duplicates of the "Invalid user" line are silenced, as in Wazuh.
  silent(`${h}input_userauth_request: invalid user opcione [preauth]`);
  silent(
    `${h}error: PAM: User not known to the underlying authentication module for illegal user warez from 192.0.2.101`,
  );
  // Near-misses: a valid user, and "invalid" in other words.
  not(`${h}Failed password for root from 203.0.113.7 port 52150 ssh2`, R.sshdInvalidUser);
  not(`${h}Accepted password for invalidated from 192.0.2.1 port 1 ssh2`, R.sshdInvalidUser);
});

Deno.test("sshd 5716/5760: failed authentication, with the real address", () => {
  for (const h of SSHD_HEADERS) {
    only(`${h}Failed password for root from 203.0.113.7 port 52150 ssh2`, R.sshdPasswordFailed, {
      user: "root",
      srcip: "203.0.113.7",
      method: "password",
    });
    only(
      `${h}Failed publickey for git from 2001:db8::5 port 40001 ssh2: RSA SHA256:Qm9vAbc`,
      R.sshdFailed,
      { user: "git", srcip: "2001:db8::5", method: "publickey" },
    );
  }
  only(`${SOLARIS}Failed none for root from 192.0.2.1 port 36942 ssh2`, R.sshdFailed, {
    method: "none",
  });
  only(
    "2020-03-23 09:55:42.391078-0700  localhost sshd[17329]: error: PAM: authentication error for user from 192.168.33.1",
    R.sshdPasswordFailed,
    { user: "user", srcip: "192.168.33.1" },
  );
  // `ssh "x from 6.6.6.6 port 1 ssh2"@host`: sshd appends the real address last.
  only(
    `${DEBIAN12}Failed password for invalid user x from 6.6.6.6 port 1 ssh2 from 203.0.113.7 port 52144 ssh2`,
    R.sshdPasswordFailed,
    { srcip: "203.0.113.7", user: "x from 6.6.6.6 port 1 ssh2" },
  );
  only(
    `${DEBIAN12}Invalid user y from 6.6.6.6 from 203.0.113.7 port 40022`,
    R.sshdInvalidUser,
    { srcip: "203.0.113.7" },
  );
  // Near-misses: "Failed" not at the start, another program.
  not(`${DEBIAN12}error: Failed to allocate pty`, R.sshdFailed, R.sshdPasswordFailed);
  not(
    "Nov 23 19:43:33 web-01 dropbear[1]: Failed password for root from 203.0.113.7 port 1 ssh2",
    R.sshdFailed,
    R.sshdPasswordFailed,
  );
});

Deno.test("sshd 5715/880012: accepted logins and root logins", () => {
  for (const h of SSHD_HEADERS) {
    only(
      `${h}Accepted publickey for deploy from 192.0.2.10 port 50022 ssh2: ED25519 SHA256:Pw0d3kXc`,
      R.sshdAccepted,
      { user: "deploy", srcip: "192.0.2.10", method: "publickey" },
    );
  }
  only(`${DEBIAN12}Accepted password for root from 192.0.2.11 port 50100 ssh2`, R.sshdRootLogin, {
    user: "root",
    srcip: "192.0.2.11",
  });
  not(`${DEBIAN12}Accepted password for rootless from 192.0.2.11 port 1 ssh2`, R.sshdRootLogin);
  not(`${DEBIAN12}Server listening on 0.0.0.0 port 22.`, R.sshdAccepted);
});

Deno.test("sshd: denied users, max attempts, PAM errors, bad modes, reverse mapping, scans", () => {
  const h = DEBIAN13;
  only(
    `${h}User root from 192.0.2.33 not allowed because not listed in AllowUsers`,
    R.sshdDeniedUser,
    {
      user: "root",
      srcip: "192.0.2.33",
      reason: "not listed in AllowUsers",
    },
  );
  only(`${h}User bob from 192.0.2.34 not allowed because listed in DenyUsers`, R.sshdDeniedUser);
  only(
    `${h}User carol from 192.0.2.35 not allowed because none of user's groups are listed in AllowGroups`,
    R.sshdDeniedUser,
  );
  only(
    `${h}error: maximum authentication attempts exceeded for root from 203.0.113.8 port 34100 ssh2 [preauth]`,
    R.sshdMaxAttempts,
    { user: "root", srcip: "203.0.113.8" },
  );
  only(
    `${h}error: maximum authentication attempts exceeded for invalid user badguy from 203.0.113.8 port 55146 ssh2 [preauth]`,
    R.sshdMaxAttempts,
    { user: "badguy", srcip: "203.0.113.8" },
  );
  only(
    `${RHEL9}Authentication refused: bad ownership or modes for file /home/ansible/.ssh/authorized_keys`,
    R.sshdBadModes,
    { file: "/home/ansible/.ssh/authorized_keys" },
  );
  only(
    `${RHEL9}Authentication refused: bad ownership or modes for directory /home/ansible`,
    R.sshdBadModes,
  );
  only(
    `${RHEL9}reverse mapping checking getaddrinfo for host.example [192.0.2.40] failed - POSSIBLE BREAK-IN ATTEMPT!`,
    R.sshdReverseLookup,
    { srcip: "192.0.2.40", hostname: "host.example" },
  );
  silent(
    `${RHEL9}Address 192.0.2.41 maps to scanner.example, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!`,
  );
  only(
    `${h}Did not receive identification string from 203.0.113.9 port 45824`,
    R.sshdNoIdentification,
    {
      srcip: "203.0.113.9",
    },
  );
  only(
    `${h}Bad protocol version identification 'GET / HTTP/1.1' from 203.0.113.9 port 59920`,
    R.sshdBadProtocol,
    {
      srcip: "203.0.113.9",
    },
  );
  only(
    `${h}fatal: Unable to negotiate with 203.0.113.9 port 3579: no matching cipher found. Their offer: 3des-cbc [preauth]`,
    R.sshdNoCipher,
    { srcip: "203.0.113.9" },
  );
  only(
    `${h}Unable to negotiate with 203.0.113.9 port 3580: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]`,
    R.sshdNoKex,
  );
  only(
    `${h}Unable to negotiate with 203.0.113.9 port 3581: no matching MAC found. Their offer: hmac-md5 [preauth]`,
    R.sshdNoMac,
  );
  only(`${h}fatal: Timeout before authentication for 203.0.113.10 port 4242`, R.sshdLoginTimeout, {
    srcip: "203.0.113.10",
  });
  only(`${h}Read error from remote host 192.0.2.1: Connection reset by peer`, R.sshdResetByPeer);
  only(
    `${h}Connection reset by authenticating user root 203.0.113.11 port 51772 [preauth]`,
    R.sshdConnectionReset,
    { srcip: "203.0.113.11", user: "root" },
  );
  // Level 0 (as in Wazuh), but counted by the scan correlation, so the address is captured.
  for (
    const line of [
      `${h}Connection closed by authenticating user root 203.0.113.12 port 22 [preauth]`,
      `${h}Connection closed by 203.0.113.12 port 41234 [preauth]`,
      `${h}Disconnected from authenticating user root 203.0.113.12 port 41235 [preauth]`,
      `${h}Received disconnect from 203.0.113.12 port 41234:11: Bye Bye [preauth]`,
      `${h}Disconnected from user deploy 192.0.2.10 port 50022`,
    ]
  ) {
    silent(line);
  }
  silent(`${h}Server listening on :: port 22.`);
});

Deno.test("PAM: sessions, failures, old su(pam_unix) forms; sshd's and su's failures left to their own rules", () => {
  only(
    "Nov 23 19:44:07 web-01 login[700]: pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=carol",
    R.pamFailure,
    { service: "login", user: "carol" },
  );
  only(
    "Nov 23 19:44:01 web-01 sudo: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
    R.pamFailure,
    { service: "sudo", user: "alice", ruser: "alice" },
  );
  only(
    "Nov 11 22:46:29 localhost su(pam_unix)[23164]: authentication failure; logname= uid=1342 euid=0 tty= ruser=dcid rhost=  user=osaudit",
    R.pamFailure,
    { user: "osaudit", ruser: "dcid" },
  );
  only(
    "Nov 11 22:46:29 localhost sshd(pam_unix)[15794]: 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.3.1  user=root",
    R.repeatedFailures,
    { srcip: "10.0.3.1", user: "root" },
  );
  only(
    `${RHEL9}PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root`,
    R.repeatedFailures,
  );
  only(
    "Nov 11 22:46:29 localhost vsftpd(pam_unix)[25073]: check pass; user unknown",
    R.pamUnknownUser,
  );
  only(
    "Nov 11 22:46:29 localhost su(pam_unix)[14592]: session opened for user news by (uid=0)",
    R.pamSessionOpened,
    { user: "news" },
  );
  only(
    "Nov 11 22:46:29 localhost su(pam_unix)[14592]: session closed for user news",
    R.pamSessionClosed,
  );
  only(
    `${DEBIAN12}pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)`,
    R.pamSessionOpened,
    { service: "sshd", user: "deploy" },
  );
  only(
    "Nov 23 19:50:05 web-01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
    R.pamSessionOpened,
    { user: "root" },
  );
  only(
    "Nov 23 19:50:06 alpine authpriv.notice unix_chkpwd[881]: password check failed for user (root)",
    R.chkpwdFailed,
    { user: "root" },
  );
  // Ignored as in Wazuh: cron's sessions.
  silent(
    "Nov 23 19:50:01 web-01 CRON[2222]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
  );
  silent("Nov 23 19:50:01 web-01 CRON[2222]: pam_unix(cron:session): session closed for user root");
  // sshd's PAM line: its own "Failed password" line is the alert.
  for (const h of [DEBIAN12, DEBIAN13]) {
    silent(
      `${h}pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root`,
    );
  }
  not("Nov 23 19:50:07 web-01 app[1]: user authentication failure; retry", R.pamFailure);
});

Deno.test("sudo: failures by count, not in sudoers, commands to root and to others", () => {
  const h = "Nov 23 19:45:00 web-01 sudo: ";
  only(
    `${h}   mike : 1 incorrect password attempt ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls`,
    R.sudoFailed,
    { user: "mike", attempts: "1", runas: "root", command: "/bin/ls" },
  );
  only(
    `${h}   mike : 2 incorrect password attempts ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls`,
    R.sudoFailed,
    { attempts: "2" },
  );
  only(
    `${h}   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`,
    R.sudoThreeFailures,
    { user: "alice", attempts: "3" },
  );
  only(
    `${h}   alice : 10 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh`,
    R.sudoThreeFailures,
  );
  only(
    `${h}     bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash`,
    R.sudoNotInSudoers,
    { user: "bob" },
  );
  only(
    `${h}     bob : command not allowed ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/vim /etc/shadow`,
    R.sudoCommandNotAllowed,
    { user: "bob", command: "/usr/bin/vim /etc/shadow" },
  );
  only(
    `${h}     bob : user NOT authorized on host ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/id`,
    R.sudoNotOnHost,
  );
  only(
    `${h}   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`,
    R.sudoToRoot,
    { user: "alice", tty: "pts/0", pwd: "/home/alice", command: "/usr/bin/apt update" },
  );
  only(
    "2026-11-23T19:45:00.123456+00:00 web-01 sudo: deploy : PWD=/srv/app ; USER=root ; ENV=PATH=/usr/bin ; COMMAND=/usr/bin/systemctl restart app",
    R.sudoToRoot,
    { user: "deploy", command: "/usr/bin/systemctl restart app" },
  );
  only(
    "Dec 30 19:36:11 rheltest sudo: cplummer : TTY=pts/2 ; PWD=/home/cplummer1 ; USER=root ; TSID=0000UM ; COMMAND=/bin/bash",
    R.sudoToRoot,
    { user: "cplummer" },
  );
  only(
    `${h}   alice : TTY=pts/0 ; PWD=/home/alice ; USER=postgres ; COMMAND=/usr/bin/psql`,
    R.sudoRun,
    { runas: "postgres" },
  );
  only(
    "Nov 23 19:45:00 alpine authpriv.notice sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/sbin/apk upgrade",
    R.sudoToRoot,
  );
  // Near-misses: sudo's session lines, another program's text.
  not(`${h}pam_unix(sudo:session): session closed for user root`, R.sudoToRoot, R.sudoRun);
  not(
    "Nov 23 19:45:00 web-01 doas: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls",
    R.sudoToRoot,
  );
});

Deno.test("su: util-linux, shadow, BSD and Solaris forms, failures to root ranked higher", () => {
  const h = "Nov 23 19:46:00 web-01 su[1001]: ";
  only(`${h}FAILED SU (to root) bob on pts/1`, R.suFailedToRoot, {
    runas: "root",
    user: "bob",
    tty: "pts/1",
  });
  only(`${h}FAILED SU (to postgres) bob on pts/1`, R.suFailed, { runas: "postgres" });
  only(`${h}FAILED su for root by bob`, R.suFailedToRoot, { user: "bob", runas: "root" });
  only("Apr 27 15:22:23 niban su[234]: BAD SU ger to fwmaster on /dev/ttyp0", R.suFailed, {
    user: "ger",
    runas: "fwmaster",
  });
  only("Apr 27 15:22:23 bsd su: BAD SU alice to root on /dev/ttyp0", R.suFailedToRoot);
  only(
    "Apr 27 15:22:23 niban su[2921936]: failed: ttyq4 changing from ldap to root",
    R.suFailedToRoot,
    {
      user: "ldap",
    },
  );
  only(
    `${h}pam_unix(su:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=root`,
    R.suFailedToRoot,
    { user: "bob", runas: "root" },
  );
  only(
    "Nov 23 19:46:00 sol su: [ID 366847 auth.crit] 'su root' failed for bob on /dev/pts/3",
    R.suFailedToRoot,
    { user: "bob", runas: "root" },
  );
  only(
    "Nov 23 19:46:00 sol su: [ID 366847 auth.notice] 'su root' succeeded for bob on /dev/pts/3",
    R.suToRoot,
    { user: "bob" },
  );
  only(`${h}(to root) alice on pts/0`, R.suToRoot, { user: "alice", tty: "pts/0" });
  only(`${h}(to postgres) alice on pts/0`, R.suOk, { user: "alice", runas: "postgres" });
  only("Apr 22 17:51:51 enigma su: dcid to root on /dev/ttyp1", R.suToRoot, { user: "dcid" });
  only("Apr 22 17:51:51 enigma su[5]: Successful su for root by alice", R.suToRoot);
  // Near-misses: the session line is PAM's, another program's "FAILED SU" text.
  not(
    `${h}pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)`,
    R.suToRoot,
  );
  not(
    "Nov 23 19:46:00 web-01 app[1]: FAILED SU (to root) bob on pts/1",
    R.suFailed,
    R.suFailedToRoot,
  );
});

Deno.test("kernel and systemd rules, with Wazuh's ids where Wazuh has the meaning", () => {
  const k = "Nov 23 19:47:00 web-01 kernel: ";
  only(
    `${k}[12345.678901] Out of memory: Killed process 1234 (java) total-vm:8123456kB, anon-rss:4012345kB, UID:1000 pgtables:9000kB oom_score_adj:0`,
    R.kernelOutOfMemory,
    { killed_pid: "1234", process: "java" },
  );
  only(
    `${k}Memory cgroup out of memory: Killed process 4321 (node) total-vm:1200000kB, anon-rss:500000kB, UID:0 pgtables:2000kB oom_score_adj:0`,
    R.kernelOutOfMemory,
    { process: "node" },
  );
  only(
    `${k}Out of memory: Kill process 999 (mysqld) score 900 or sacrifice child`,
    R.kernelOutOfMemory,
  );
  only(
    `${k}myapp[4242]: segfault at 0 ip 000055d5c1a2b3c4 sp 00007ffd5e6f7a80 error 4 in myapp[55d5c1a2b000+1000]`,
    R.segfault,
    { process: "myapp", process_pid: "4242", address: "0" },
  );
  only(
    `${k}[ 8812.123456] traps: worker[777] general protection fault ip:7f3a2b1c0d1e sp:7ffc1a2b3c40 error:0 in libc.so.6[7f3a2b000000+195000]`,
    R.kernelProtectionFault,
    { process: "worker", process_pid: "777" },
  );
  only(`${k}device eth0 entered promiscuous mode`, R.kernelPromiscuous, { interface: "eth0" });
  not(`${k}device eth0 left promiscuous mode`, R.kernelPromiscuous);
  const s = "Nov 23 19:48:00 web-01 systemd[1]: ";
  only(`${s}nginx.service: Main process exited, code=killed, status=9/KILL`, R.systemdCrash, {
    unit: "nginx.service",
    code: "killed",
    status: "9/KILL",
  });
  only(
    `${s}app.service: Main process exited, code=exited, status=1/FAILURE`,
    R.systemdExitFailure,
    {
      unit: "app.service",
    },
  );
  only(`${s}nginx.service: Failed with result 'signal'.`, R.systemdFailedState, {
    unit: "nginx.service",
  });
  only(`${s}Unit nginx.service entered failed state.`, R.systemdFailedState, {
    unit: "nginx.service",
  });
  only(
    "Nov 23 19:48:02 web-01 systemd-coredump[5555]: Process 4242 (myapp) of user 1000 dumped core.",
    R.coredump,
    { process: "myapp", process_pid: "4242", uid: "1000" },
  );
  silent(`${s}backup.service: Main process exited, code=exited, status=0/SUCCESS`);
});

Deno.test("NMS rules match NMS's own events by kind and fields, from any door, and never a look-alike line", () => {
  const ids = (batch: ReturnType<typeof securityEvent>) =>
    matchBatch(engine, batch)?.folds.rule ?? [];
  const fields = (batch: ReturnType<typeof securityEvent>) =>
    matchBatch(engine, batch)?.folds.fields[0];
  for (const [address, channel] of [["1.2.3.4:5555", "agent"], ["127.0.0.1", "console"]] as const) {
    const event = securityEvent({
      at: RECEIVED,
      severity: 4,
      message: "any text at all",
      kind: SECURITY_EVENT_KINDS.loginFailed,
      fields: loginFields('adm"in] [x', address, channel),
    });
    assert.deepEqual(ids(event), [R.nmsFailedLogin]);
    assert.deepEqual(fields(event), { srcip: address.split(":")[0] });
  }
  const v6 = securityEvent({
    at: RECEIVED,
    severity: 4,
    message: "Failed login",
    kind: SECURITY_EVENT_KINDS.loginFailed,
    fields: loginFields("admin", "[2001:db8::7]:5555", "agent"),
  });
  assert.deepEqual(fields(v6), { srcip: "2001:db8::7" });
  // The old text from a collected line (or a syslog sender) raises nothing.
  silent("2026-11-23T19:49:00.000Z nms-server: Failed login for user admin from 1.2.3.4:5555");
  const registered = agentRegisteredEvent({
    hostname: "web-01",
    version: "1.0",
    os: "Debian GNU/Linux 12 (bookworm)",
    address: "10.0.0.5:40000",
    at: RECEIVED,
  });
  assert.deepEqual(ids(registered), [R.nmsAgentRegistered]);
  assert.deepEqual(fields(registered), { agent: "web-01" });
  const silentAgent = agentSilentEvent(
    {
      id: 1,
      hostname: "db-01",
      version: "1.0",
      os: "Linux",
      address: "10.0.0.6:40000",
      firstSeen: 0,
      lastSeen: 0,
      lastHeartbeat: RECEIVED - 120_000,
      uptimeSeconds: 10,
      lagBytes: null,
      stoppedAt: null,
    },
    RECEIVED,
    30,
  );
  assert.deepEqual(ids(silentAgent), [R.nmsAgentSilent]);
});

Deno.test("benign lines raise no alert", () => {
  const benign = [
    `${DEBIAN12}Received disconnect from 192.0.2.10 port 50022:11: disconnected by user`,
    `${DEBIAN12}Server listening on 0.0.0.0 port 22.`,
    "Nov 23 19:50:01 web-01 CRON[2222]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "Nov 23 19:50:02 web-01 systemd[1]: Started nginx.service - A high performance web server.",
    "Nov 23 19:50:03 web-01 kernel: [ 1.234567] Linux version 6.1.0-18-amd64",
    "2025-12-11T16:00:00 sshd: session opened",
  ];
  for (const line of benign) silent(line);
});

Deno.test("sshd errors and debug messages with Wazuh's meaning", () => {
  const h = RHEL9;
  only(
    `${h}error: Could not stat AuthorizedKeysCommand "/usr/local/sbin/keys": No such file or directory`,
    R.sshdAuthorizedKeysCommand,
  );
  only(`${h}debug1: channel 5: connection failed: Connection refused`, R.sshdConnectionRefused);
  only(`${h}debug1: channel 3: connection failed: Connection timed out`, R.sshdConnectionTimedOut);
  only(`${h}debug1: channel 1: connection failed: No route to host`, R.sshdNoRoute);
  only(`${h}debug1: server_input_channel_open: failure direct-tcpip`, R.sshdForwarding);
  only(`${h}debug1: getpeername failed: Transport endpoint is not connected`, R.sshdNotConnected);
  only(`${h}debug1: get_remote_port failed`, R.sshdRemotePort);
  only(`${h}Disconnecting: bad client public DH value [preauth]`, R.sshdBadDh);
  only(`${h}Corrupted MAC on input. [preauth]`, R.sshdCorruptedMac);
  only(`${h}Bad packet length 4081586742. [preauth]`, R.sshdBadPacketLength);
  only(
    `${h}pam_systemd(sshd:session): Failed to create session: Access denied`,
    R.sshdSessionFailed,
  );
  silent(`${h}subsystem request for netconf by user checker failed, subsystem not found`);
  not(`${h}debug1: Connection refused by tcp wrapper, retrying`, R.sshdConnectionRefused);
  not(`${h}received packet with bad packet length 12`, R.sshdBadPacketLength);
});

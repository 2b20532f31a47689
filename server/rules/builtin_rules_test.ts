import assert from "node:assert/strict";
import { parseLogLine } from "../log_formats/mod.ts";
import { BUILTIN_RULE_IDS as R, BUILTIN_RULES } from "./builtin_rules.ts";
import { emptyMatches, RuleEngine } from "./engine.ts";
import { agentRegisteredEvent, agentSilentEvent } from "./nms_events.ts";
import { buildRuleSet } from "./rule.ts";

const engine = new RuleEngine(buildRuleSet([], BUILTIN_RULES));
const RECEIVED = Date.UTC(2026, 10, 23, 20, 0, 0);

/** Parses a syslog line as the server does and returns the rules it matches with their fields. */
function matches(line: string): { rule: number; fields: Record<string, string> }[] {
  const parsed = parseLogLine(line, RECEIVED);
  const sink = emptyMatches();
  engine.match(0, parsed.program, parsed.message, parsed.severity ?? -1, sink);
  return sink.rule.map((rule, k) => ({ rule, fields: sink.fields[k] ?? {} }));
}

function only(line: string, rule: number, fields: Record<string, string>): void {
  const found = matches(line).filter((m) => m.rule === rule);
  assert.equal(
    found.length,
    1,
    `${line} should match rule ${rule}: ${JSON.stringify(matches(line))}`,
  );
  for (const [name, value] of Object.entries(fields)) {
    assert.equal(found[0]!.fields[name], value, `${name} of ${line}`);
  }
  const others = matches(line).filter((m) => m.rule !== rule && !isCorrelation(m.rule));
  assert.deepEqual(others, [], `${line} should match no other stateless rule`);
}

function isCorrelation(id: number): boolean {
  const rule = BUILTIN_RULES.find((r) => r.id === id)!;
  return rule.frequency !== undefined || rule.after !== undefined;
}

Deno.test("BUILTIN_RULES validate and have unique ids", () => {
  const set = buildRuleSet([], BUILTIN_RULES);
  assert.equal(set.rules.length, BUILTIN_RULES.length);
  assert.equal(new Set(BUILTIN_RULES.map((r) => r.id)).size, BUILTIN_RULES.length);
});

Deno.test("sshd rules: failed password, invalid user, accepted, preauth disconnects", () => {
  const h = "Nov 23 19:43:33 web-01 sshd[812]: ";
  only(
    `${h}Failed password for invalid user admin from 203.0.113.7 port 52144 ssh2`,
    R.sshdFailed,
    {
      user: "admin",
      srcip: "203.0.113.7",
      method: "password",
    },
  );
  only(`${h}Failed password for root from 203.0.113.7 port 52150 ssh2`, R.sshdFailed, {
    user: "root",
    srcip: "203.0.113.7",
  });
  only(
    `${h}Failed publickey for git from 2001:db8::5 port 40001 ssh2: RSA SHA256:abc`,
    R.sshdFailed,
    {
      user: "git",
      srcip: "2001:db8::5",
    },
  );
  only(`${h}Invalid user oracle from 198.51.100.23 port 40022`, R.sshdInvalidUser, {
    user: "oracle",
    srcip: "198.51.100.23",
  });
  only(`${h}Invalid user  from 198.51.100.23 port 40023`, R.sshdInvalidUser, { user: "" });
  only(`${h}Invalid user test from 198.51.100.23`, R.sshdInvalidUser, { user: "test" });
  only(
    `${h}Accepted publickey for deploy from 192.0.2.10 port 50022 ssh2: ED25519 SHA256:Pw0d3kXcV3yUQs1Jd8Ue6nN3x3oF6m3yG0Ww1bqkq7s`,
    R.sshdAccepted,
    { user: "deploy", srcip: "192.0.2.10", method: "publickey" },
  );
  only(`${h}Accepted password for alice from 192.0.2.11 port 50100 ssh2`, R.sshdAccepted, {
    user: "alice",
  });
  only(
    `${h}Connection closed by authenticating user root 203.0.113.7 port 22 [preauth]`,
    R.sshdPreauthDisconnect,
    { user: "root", srcip: "203.0.113.7" },
  );
  only(
    `${h}Disconnected from invalid user test 203.0.113.7 port 33000 [preauth]`,
    R.sshdPreauthDisconnect,
    { user: "test", srcip: "203.0.113.7" },
  );
  only(`${h}Connection closed by 203.0.113.9 port 41234 [preauth]`, R.sshdPreauthDisconnect, {
    srcip: "203.0.113.9",
  });
  only(
    `${h}Received disconnect from 203.0.113.9 port 41234:11: Bye Bye [preauth]`,
    R.sshdPreauthDisconnect,
    { srcip: "203.0.113.9" },
  );
});

Deno.test("sshd rules pin an attempt on the real address, not one spoofed in the user name", () => {
  // `ssh "x from 6.6.6.6 port 1 ssh2"@host`: sshd appends the real address last.
  only(
    "Nov 23 19:43:33 web-01 sshd[812]: Failed password for invalid user x from 6.6.6.6 port 1 ssh2 from 203.0.113.7 port 52144 ssh2",
    R.sshdFailed,
    { srcip: "203.0.113.7", user: "x from 6.6.6.6 port 1 ssh2" },
  );
  only(
    "Nov 23 19:43:33 web-01 sshd[812]: Invalid user y from 6.6.6.6 from 203.0.113.7 port 40022",
    R.sshdInvalidUser,
    { srcip: "203.0.113.7" },
  );
});

Deno.test("PAM rule: an sshd PAM failure is silenced by its level-0 child; sudo and su get their own", () => {
  const sshd = matches(
    "Nov 23 19:43:33 web-01 sshd[812]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root",
  );
  assert.deepEqual(sshd, []); // the level-0 child replaced the parent and reports nothing
  only(
    "Nov 23 19:44:01 web-01 sudo: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
    R.sudoPamFailure,
    { service: "sudo", user: "alice", ruser: "alice" },
  );
  only(
    "Nov 23 19:44:05 web-01 su[999]: pam_unix(su:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=root",
    R.suPamFailure,
    { service: "su", user: "root" },
  );
  only(
    "Nov 23 19:44:07 web-01 login[700]: pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=carol",
    R.pamFailure,
    { service: "login", user: "carol" },
  );
});

Deno.test("sudo rules: command as root, not in sudoers, incorrect password attempts", () => {
  only(
    "Nov 23 19:45:00 web-01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
    R.sudoCommandAsRoot,
    { user: "alice", tty: "pts/0", pwd: "/home/alice", command: "/usr/bin/apt update" },
  );
  only(
    "2026-11-23T19:45:00.123456+00:00 web-01 sudo: deploy : PWD=/srv/app ; USER=root ; ENV=PATH=/usr/bin ; COMMAND=/usr/bin/systemctl restart app",
    R.sudoCommandAsRoot,
    { user: "deploy", command: "/usr/bin/systemctl restart app" },
  );
  only(
    "Nov 23 19:45:10 web-01 sudo:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash",
    R.sudoNotAllowed,
    { user: "bob", runas: "root", command: "/bin/bash" },
  );
  only(
    "Nov 23 19:45:20 web-01 sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
    R.sudoIncorrectPassword,
    { user: "alice", attempts: "3" },
  );
  // A command run as another user is not "as root".
  assert.deepEqual(
    matches(
      "Nov 23 19:45:30 web-01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=postgres ; COMMAND=/usr/bin/psql",
    ),
    [],
  );
});

Deno.test("su rule: FAILED SU", () => {
  only("Nov 23 19:46:00 web-01 su[1001]: FAILED SU (to root) bob on pts/1", R.suFailed, {
    runas: "root",
    user: "bob",
    tty: "pts/1",
  });
});

Deno.test("kernel rules: OOM kill, segfault, general protection fault", () => {
  only(
    "Nov 23 19:47:00 web-01 kernel: [12345.678901] Out of memory: Killed process 1234 (java) total-vm:8123456kB, anon-rss:4012345kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:9000kB oom_score_adj:0",
    R.kernelOomKill,
    { killed_pid: "1234", process: "java" },
  );
  only(
    "Nov 23 19:47:01 web-01 kernel: Memory cgroup out of memory: Killed process 4321 (node) total-vm:1200000kB, anon-rss:500000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2000kB oom_score_adj:0",
    R.kernelOomKill,
    { process: "node" },
  );
  only(
    "Nov 23 19:47:02 web-01 kernel: Out of memory: Kill process 999 (mysqld) score 900 or sacrifice child",
    R.kernelOomKill,
    { process: "mysqld" },
  );
  only(
    "Nov 23 19:47:03 web-01 kernel: myapp[4242]: segfault at 0 ip 000055d5c1a2b3c4 sp 00007ffd5e6f7a80 error 4 in myapp[55d5c1a2b000+1000]",
    R.kernelSegfault,
    { process: "myapp", process_pid: "4242", address: "0" },
  );
  only(
    "Nov 23 19:47:04 web-01 kernel: [ 8812.123456] traps: worker[777] general protection fault ip:7f3a2b1c0d1e sp:7ffc1a2b3c40 error:0 in libc.so.6[7f3a2b000000+195000]",
    R.kernelProtectionFault,
    { process: "worker", process_pid: "777" },
  );
});

Deno.test("systemd rules: a crashed service and a failed unit; systemd-coredump", () => {
  only(
    "Nov 23 19:48:00 web-01 systemd[1]: nginx.service: Main process exited, code=killed, status=9/KILL",
    R.systemdCrash,
    { unit: "nginx.service", code: "killed", status: "9/KILL" },
  );
  only(
    "Nov 23 19:48:00 web-01 systemd[1]: app.service: Main process exited, code=dumped, status=11/SEGV",
    R.systemdCrash,
    { code: "dumped" },
  );
  only(
    "Nov 23 19:48:01 web-01 systemd[1]: nginx.service: Failed with result 'signal'.",
    R.systemdFailed,
    { unit: "nginx.service", result: "signal" },
  );
  only(
    "Nov 23 19:48:02 web-01 systemd-coredump[5555]: Process 4242 (myapp) of user 1000 dumped core.",
    R.coredump,
    { process: "myapp", process_pid: "4242", uid: "1000" },
  );
  // A clean exit is not a crash.
  assert.deepEqual(
    matches(
      "Nov 23 19:48:03 web-01 systemd[1]: backup.service: Main process exited, code=exited, status=0/SUCCESS",
    ),
    [],
  );
});

Deno.test("NMS rules match NMS's own events, IPv6 client addresses included", () => {
  const nms = (message: string) => `2026-11-23T19:49:00.000Z nms-server: ${message}`;
  only(nms("Failed login for user admin from 1.2.3.4:5555"), R.nmsFailedLogin, {
    user: "admin",
    srcip: "1.2.3.4",
  });
  only(nms("Failed login for user admin from [2001:db8::7]:5555"), R.nmsFailedLogin, {
    srcip: "2001:db8::7",
  });
  assert.deepEqual(matches(nms("Successful login for user admin from 1.2.3.4:5555")), []);
  const registered = agentRegisteredEvent({
    hostname: "web-01",
    version: "1.0",
    os: "Debian GNU/Linux 12 (bookworm)",
    address: "10.0.0.5:40000",
    at: RECEIVED,
  });
  only(nms(registered.message[0]!), R.nmsAgentRegistered, { agent: "web-01", srcip: "10.0.0.5" });
  const silent = agentSilentEvent(
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
  only(nms(silent.message[0]!), R.nmsAgentSilent, { agent: "db-01" });
});

Deno.test("benign lines match no rule", () => {
  const benign = [
    "Nov 23 19:50:00 web-01 sshd[812]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)",
    "Nov 23 19:50:00 web-01 sshd[812]: Received disconnect from 192.0.2.10 port 50022:11: disconnected by user",
    "Nov 23 19:50:00 web-01 sshd[812]: Disconnected from user deploy 192.0.2.10 port 50022",
    "Nov 23 19:50:00 web-01 sshd[812]: Server listening on 0.0.0.0 port 22.",
    "Nov 23 19:50:01 web-01 CRON[2222]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "Nov 23 19:50:02 web-01 systemd[1]: Started nginx.service - A high performance web server.",
    "Nov 23 19:50:03 web-01 kernel: [ 1.234567] Linux version 6.1.0-18-amd64",
    "Nov 23 19:50:04 web-01 su[999]: (to root) alice on pts/0",
    "Nov 23 19:50:05 web-01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
    "2025-12-11T16:00:00 sshd: session opened",
  ];
  for (const line of benign) assert.deepEqual(matches(line), [], line);
});

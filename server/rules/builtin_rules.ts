/**
 * The rules NMS ships with, written in the same format as a user's rules file
 * and validated by the same code. Each is tested in `builtin_rules_test.ts`
 * against lines in the exact format OpenSSH, sudo, PAM, su, systemd, the
 * kernel and NMS itself print. The list with explanations is in docs/RULES.md.
 *
 * Ids: 51xx kernel, 53xx su, 54xx sudo, 55xx PAM, 57xx sshd, 59xx systemd,
 * 88xx NMS itself. User rules should use ids from 100000.
 *
 * Addresses are captured with `[0-9A-Fa-f:.]+` and user names greedily up to
 * the last ` from <address> port <n>`: a user name is attacker-controlled, and
 * `ssh "x from 6.6.6.6 port 1"@host` must not pin the attempt on 6.6.6.6.
 *
 * @module
 */

import { NMS_PROGRAM } from "../security_event.ts";
import type { RuleDefinition } from "./rule.ts";

/** An IPv4 or IPv6 address as OpenSSH and PAM print it. */
const IP = String.raw`[0-9A-Fa-f:.]+`;

/** `ip:port` or `[ipv6]:port`, as NMS prints client addresses, with the address as `srcip`. */
const NMS_ADDRESS = String.raw`(?:\[(?<srcip>[0-9A-Fa-f:.]+)\]|(?<srcip>[0-9.]+)):\d+`;

/** Built-in rule ids, for code and tests that refer to one. */
export const BUILTIN_RULE_IDS = {
  kernelOomKill: 5101,
  kernelSegfault: 5102,
  kernelProtectionFault: 5103,
  suPamFailure: 5301,
  suFailed: 5302,
  sudoPamFailure: 5401,
  sudoIncorrectPassword: 5402,
  sudoNotAllowed: 5403,
  sudoCommandAsRoot: 5404,
  pamFailure: 5500,
  sshdPamFailure: 5501,
  sshdFailed: 5700,
  sshdInvalidUser: 5701,
  sshdAccepted: 5702,
  sshdPreauthDisconnect: 5703,
  sshdBruteForce: 5710,
  sshdInvalidUsers: 5711,
  sshdSuccessAfterFailures: 5712,
  systemdCrash: 5901,
  systemdFailed: 5902,
  coredump: 5903,
  nmsFailedLogin: 8801,
  nmsRepeatedFailedLogins: 8802,
  nmsAgentRegistered: 8803,
  nmsAgentSilent: 8804,
} as const;

const R = BUILTIN_RULE_IDS;

/** The built-in rules, in evaluation order. */
export const BUILTIN_RULES: readonly RuleDefinition[] = [
  // --- OpenSSH (sshd) ---
  {
    id: R.sshdFailed,
    level: 5,
    description: "sshd: authentication failed",
    groups: ["sshd", "authentication_failed"],
    match: {
      program: "sshd",
      regex: String
        .raw`^Failed (?<method>\S+) for (?:invalid user )?(?<user>.*) from (?<srcip>${IP}) port \d+`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdInvalidUser,
    level: 5,
    description: "sshd: login attempt with a non-existent user",
    groups: ["sshd", "invalid_login"],
    match: {
      program: "sshd",
      regex: String.raw`^Invalid user (?<user>.*) from (?<srcip>${IP})(?: port \d+)?$`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdAccepted,
    level: 3,
    description: "sshd: authentication succeeded",
    groups: ["sshd", "authentication_success"],
    match: {
      program: "sshd",
      regex: String.raw`^Accepted (?<method>\S+) for (?<user>.*) from (?<srcip>${IP}) port \d+`,
    },
    // Routine and frequent: one alert per user and host, its count rising (addresses in its events).
    foldBy: ["host", "user"],
  },
  {
    id: R.sshdPreauthDisconnect,
    level: 2,
    description: "sshd: connection closed before authentication",
    groups: ["sshd", "preauth"],
    match: {
      program: "sshd",
      contains: "[preauth]",
      regex: String
        .raw`^(?:Connection closed by|Disconnected from|Connection reset by|Received disconnect from) (?:(?:authenticating|invalid) user (?<user>.*) )?(?<srcip>${IP}) port \d+.*\[preauth\]$`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdBruteForce,
    level: 10,
    description: "sshd: brute force: 5 failed logins from one address within 60 s",
    groups: ["sshd", "authentication_failures", "attack"],
    match: { parent: R.sshdFailed },
    frequency: { count: 5, withinSeconds: 60 },
    sameField: "srcip",
  },
  {
    id: R.sshdInvalidUsers,
    level: 10,
    description: "sshd: 5 non-existent users tried from one address within 60 s",
    groups: ["sshd", "invalid_login", "attack"],
    match: { parent: R.sshdInvalidUser },
    frequency: { count: 5, withinSeconds: 60 },
    sameField: "srcip",
  },
  {
    id: R.sshdSuccessAfterFailures,
    level: 12,
    description: "sshd: successful login from an address right after 3 failures from it",
    groups: ["sshd", "authentication_success", "attack"],
    match: { parent: R.sshdAccepted },
    after: { rules: R.sshdFailed, count: 3, withinSeconds: 300 },
    sameField: "srcip",
    foldBy: ["srcip", "user"],
  },
  // --- PAM, with children for the services that also log their own line ---
  {
    id: R.pamFailure,
    level: 5,
    description: "PAM: authentication failure",
    groups: ["pam", "authentication_failed"],
    match: {
      contains: "): authentication failure;",
      regex: String
        .raw`^pam_unix\((?<service>[^:)]+):auth\): authentication failure;.*? ruser=(?<ruser>\S*) rhost=(?<srcip>\S*)(?:\s+user=(?<user>\S+))?`,
    },
    foldBy: ["host", "service", "srcip", "user"],
  },
  {
    id: R.sshdPamFailure,
    level: 0,
    description: "sshd: PAM authentication failure (sshd's own Failed line is the alert)",
    groups: ["sshd", "pam"],
    match: { parent: R.pamFailure, program: "sshd" },
  },
  // --- sudo ---
  {
    id: R.sudoPamFailure,
    level: 5,
    description: "sudo: authentication failure",
    groups: ["sudo", "authentication_failed"],
    match: { parent: R.pamFailure, program: "sudo" },
  },
  {
    id: R.sudoIncorrectPassword,
    level: 7,
    description: "sudo: incorrect password attempts",
    groups: ["sudo", "authentication_failed"],
    match: {
      program: "sudo",
      regex: String
        .raw`^\s*(?<user>\S+) : (?<attempts>\d+) incorrect password attempts? ;.*? USER=(?<runas>\S+) ;.*? COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoNotAllowed,
    level: 8,
    description: "sudo: user not allowed to run the command (not in sudoers)",
    groups: ["sudo", "privilege_escalation"],
    match: {
      program: "sudo",
      regex: String
        .raw`^\s*(?<user>\S+) : (?<reason>user NOT in sudoers|user NOT authorized on host|command not allowed) ;.*? USER=(?<runas>\S+) ;.*? COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoCommandAsRoot,
    level: 3,
    description: "sudo: command run as root",
    groups: ["sudo", "privileged_command"],
    match: {
      program: "sudo",
      regex: String
        .raw`^\s*(?<user>\S+) : (?:TTY=(?<tty>\S+) ; )?PWD=(?<pwd>.*?) ; USER=root ; (?:.*? ; )?COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user", "command"],
  },
  // --- su ---
  {
    id: R.suPamFailure,
    level: 5,
    description: "su: authentication failure",
    groups: ["su", "authentication_failed"],
    match: { parent: R.pamFailure, program: "su" },
  },
  {
    id: R.suFailed,
    level: 5,
    description: "su: failed attempt to switch user",
    groups: ["su", "authentication_failed"],
    match: {
      program: "su",
      regex: String.raw`^FAILED SU \(to (?<runas>[^)]*)\) (?<user>\S+) on (?<tty>\S+)`,
    },
  },
  // --- kernel ---
  {
    id: R.kernelOomKill,
    level: 10,
    description: "kernel: process killed by the out-of-memory killer",
    groups: ["kernel", "oom"],
    match: {
      program: "kernel",
      contains: "ut of memory: Kill",
      regex: String
        .raw`(?:Out of memory|Memory cgroup out of memory): Kill(?:ed)? process (?<killed_pid>\d+) \((?<process>[^)]*)\)`,
    },
    foldBy: ["host", "process"],
  },
  {
    id: R.kernelSegfault,
    level: 7,
    description: "kernel: process crashed with a segmentation fault",
    groups: ["kernel", "crash"],
    match: {
      program: "kernel",
      regex: String
        .raw`(?<process>[^\s\[]+)\[(?<process_pid>\d+)\]: segfault at (?<address>[0-9a-fA-F]+) ip (?<ip>[0-9a-fA-F]+)`,
    },
    foldBy: ["host", "process"],
  },
  {
    id: R.kernelProtectionFault,
    level: 7,
    description: "kernel: process crashed with a general protection fault",
    groups: ["kernel", "crash"],
    match: {
      program: "kernel",
      regex: String
        .raw`traps: (?<process>[^\s\[]+)\[(?<process_pid>\d+)\] general protection fault`,
    },
    foldBy: ["host", "process"],
  },
  // --- systemd ---
  {
    id: R.systemdCrash,
    level: 7,
    description: "systemd: service process killed by a signal or dumped core",
    groups: ["systemd", "crash"],
    match: {
      program: "systemd",
      regex: String
        .raw`^(?<unit>\S+\.service): Main process exited, code=(?<code>killed|dumped), status=(?<status>\S+)`,
    },
    foldBy: ["host", "unit"],
  },
  {
    id: R.systemdFailed,
    level: 5,
    description: "systemd: service failed",
    groups: ["systemd", "service_failed"],
    match: {
      program: "systemd",
      regex: String.raw`^(?<unit>\S+\.service): Failed with result '(?<result>[^']+)'`,
    },
    foldBy: ["host", "unit"],
  },
  {
    id: R.coredump,
    level: 7,
    description: "systemd-coredump: process dumped core",
    groups: ["systemd", "crash"],
    match: {
      program: "systemd-coredump",
      regex: String
        .raw`^Process (?<process_pid>\d+) \((?<process>[^)]*)\) of user (?<uid>\d+) dumped core`,
    },
    foldBy: ["host", "process"],
  },
  // --- NMS itself (server/security_event.ts) ---
  {
    id: R.nmsFailedLogin,
    level: 5,
    description: "NMS: failed login to the NMS server",
    groups: ["nms", "authentication_failed"],
    match: {
      program: NMS_PROGRAM,
      regex: String.raw`^Failed login for user (?<user>.*) from ${NMS_ADDRESS}$`,
    },
    foldBy: ["srcip"],
  },
  {
    id: R.nmsRepeatedFailedLogins,
    level: 10,
    description: "NMS: 5 failed logins to the NMS server from one address within 60 s",
    groups: ["nms", "authentication_failures", "attack"],
    match: { parent: R.nmsFailedLogin },
    frequency: { count: 5, withinSeconds: 60 },
    sameField: "srcip",
  },
  {
    id: R.nmsAgentRegistered,
    level: 4,
    description: "NMS: new agent registered",
    groups: ["nms", "agent"],
    match: {
      program: NMS_PROGRAM,
      regex: String.raw`^Registered new agent (?<agent>\S+) from ${NMS_ADDRESS}`,
    },
    foldBy: ["agent"],
  },
  {
    id: R.nmsAgentSilent,
    level: 7,
    description: "NMS: agent silent (no heartbeat for 3 intervals)",
    groups: ["nms", "agent"],
    match: { program: NMS_PROGRAM, regex: String.raw`^Agent (?<agent>\S+) is silent` },
    foldBy: ["agent"],
  },
];

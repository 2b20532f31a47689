/**
 * The rules NMS ships with, written in the same format as a user's rules file
 * and validated by the same code. Each is tested in `builtin_rules_test.ts`
 * against real lines, with near-misses that must not match. The list with
 * explanations is in docs/RULES.md.
 *
 * Ids: where Wazuh has a rule of the same meaning, NMS uses Wazuh's id, level,
 * groups and MITRE ATT&CK techniques, and its parent/frequency relations
 * (53xx su, 54xx sudo, 55xx PAM, 57xx sshd, 51xx kernel, 407xx systemd,
 * 1010, 2502, 2504, 40112). The matching logic is NMS's own. NMS's own rules
 * use {@linkcode NMS_RULE_IDS} (880000-889999), which Wazuh ships nothing in;
 * users keep Wazuh's custom range 100000-120000.
 *
 * One line raises at most one alert from these rules, as in Wazuh: a level-0
 * child silences a line that another program's own rule already reports.
 *
 * Addresses are captured with `[0-9A-Fa-f:.]+` and user names greedily up to
 * the last address: a user name is attacker-controlled, and
 * `ssh "x from 6.6.6.6 port 1"@host` must not pin the attempt on 6.6.6.6.
 * Every regex here runs in linear time under V8's linear engine (checked by
 * the tests), and the lines of an attack in progress meet one regex at most.
 *
 * @module
 */

import { NMS_PROGRAM, SECURITY_EVENT_KINDS } from "../security_event.ts";
import type { RuleDefinition } from "./rule.ts";

/** An IPv4 or IPv6 address as OpenSSH and PAM print it. */
const IP = String.raw`[0-9A-Fa-f:.]+`;

/**
 * The user and address of sshd's non-existent user lines:
 * "... user X from IP [port N] [ssh2] [[preauth]]" or "... user X IP port N[: reason] [[preauth]]".
 * Every line of a brute force with non-existent users meets it, so the engine
 * decides its common form with an equivalent literal parse (`_invalid_user.ts`).
 */
export const INVALID_USER_REGEX = String
  .raw`[Ii](?:nvalid|llegal) user (?<user>.*)(?: from (?<srcip>${IP})(?: port \d+)?(?: ssh2)?(?: \[preauth\])?|(?<! from) (?<srcip>${IP}) port \d+(?::.*)?(?: \[preauth\])?)$`;

/** The programs OpenSSH logs as: `sshd`, and `sshd-session` since OpenSSH 9.8 (Debian 13, RHEL 10, Alpine 3.21). */
const SSHD = ["sshd", "sshd-session"];

/** Built-in rule ids, for code and tests that refer to one. */
export const BUILTIN_RULE_IDS = {
  // OpenSSH
  sshd: 5700,
  sshdBadProtocol: 5701,
  sshdReverseLookup: 5702,
  sshdReverseLookups: 5703,
  sshdLoginTimeout: 5704,
  sshdLoginTimeouts: 5705,
  sshdNoIdentification: 5706,
  sshdUseless: 5709,
  sshdInvalidUser: 5710,
  sshdDuplicate: 5711,
  sshdInvalidUsersBruteForce: 5712,
  sshdAccepted: 5715,
  sshdFailed: 5716,
  sshdDeniedUser: 5718,
  sshdDeniedUsers: 5719,
  sshdFailures: 5720,
  sshdReceivedDisconnect: 5721,
  sshdConnectionClosed: 5722,
  sshdAuthorizedKeysCommand: 5739,
  sshdResetByPeer: 5740,
  sshdConnectionRefused: 5741,
  sshdConnectionTimedOut: 5742,
  sshdNoRoute: 5743,
  sshdForwarding: 5744,
  sshdNotConnected: 5745,
  sshdRemotePort: 5746,
  sshdBadDh: 5747,
  sshdCorruptedMac: 5748,
  sshdBadPacketLength: 5749,
  sshdSessionFailed: 5754,
  sshdSubsystem: 5756,
  sshdNegotiation: 5750,
  sshdNoKex: 5752,
  sshdNoCipher: 5753,
  sshdBadModes: 5755,
  sshdBadDns: 5757,
  sshdMaxAttempts: 5758,
  sshdNoMac: 5759,
  sshdPasswordFailed: 5760,
  sshdDisconnectedUser: 5761,
  sshdConnectionReset: 5762,
  sshdBruteForce: 5763,
  successAfterFailures: 40112,
  // PAM
  pamSessionOpened: 5501,
  pamSessionClosed: 5502,
  pamFailure: 5503,
  pamUnknownUser: 5504,
  pamCronOpened: 5521,
  pamCronClosed: 5522,
  pamFailures: 5551,
  chkpwdFailed: 5557,
  repeatedFailures: 2502,
  rootLoginRefused: 2504,
  rootLoginConsole: 2505,
  // sudo
  sudo: 5400,
  sudoFailed: 5401,
  sudoToRoot: 5402,
  sudoThreeFailures: 5404,
  sudoNotInSudoers: 5405,
  sudoCommandNotAllowed: 5406,
  sudoRun: 5407,
  // su
  su: 5300,
  suFailed: 5301,
  suFailedToRoot: 5302,
  suToRoot: 5303,
  suOk: 5304,
  // kernel, systemd
  kernel: 5100,
  kernelPromiscuous: 5104,
  kernelOutOfMemory: 5108,
  segfault: 1010,
  systemd: 40700,
  systemdFailedState: 40703,
  systemdExitFailure: 40704,
  // NMS's own (880000-889999)
  nmsFailedLogin: 880_001,
  nmsRepeatedFailedLogins: 880_002,
  nmsAgentRegistered: 880_003,
  nmsAgentSilent: 880_004,
  sshdPreauthDisconnect: 880_010,
  sshdScan: 880_011,
  sshdRootLogin: 880_012,
  sudoNotOnHost: 880_013,
  pamReportedElsewhere: 880_020,
  kernelProtectionFault: 880_030,
  systemdCrash: 880_040,
  coredump: 880_041,
} as const;

const R = BUILTIN_RULE_IDS;

/** The built-in rules, in evaluation order (a parent's children are tried in this order). */
export const BUILTIN_RULES: readonly RuleDefinition[] = [
  // --- OpenSSH (Wazuh 0095-sshd_rules) ---
  {
    id: R.sshd,
    level: 0,
    description: "sshd: messages grouped",
    groups: ["syslog", "sshd"],
    match: { program: SSHD },
  },
  {
    id: R.sshdInvalidUser,
    level: 5,
    description: "sshd: attempt to log in with a non-existent user",
    groups: ["syslog", "sshd", "invalid_login", "authentication_failed"],
    mitre: ["T1110.001", "T1021.004"],
    match: {
      parent: R.sshd,
      contains: ["invalid user ", "illegal user ", "Invalid user ", "Illegal user "],
      regex: INVALID_USER_REGEX,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdFailed,
    level: 5,
    description: "sshd: authentication failed",
    groups: ["syslog", "sshd", "authentication_failed"],
    mitre: ["T1110"],
    match: {
      parent: R.sshd,
      contains: ["Failed ", "error: PAM: "],
      regex: String
        .raw`^(?:Failed (?<method>\S+) for (?<user>.*) from (?<srcip>${IP}) port \d+|error: PAM: [Aa]uthentication (?:failure|error) for (?<user>.*) from (?<srcip>\S+)$)`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdMaxAttempts,
    level: 8,
    description: "sshd: maximum authentication attempts exceeded",
    groups: ["syslog", "sshd", "authentication_failed"],
    mitre: ["T1110"],
    match: {
      parent: [R.sshd, R.sshdInvalidUser],
      contains: "error: maximum authentication attempts exceeded for ",
      regex: String
        .raw`exceeded for (?:invalid user )?(?<user>.*) from (?<srcip>\S+) port \d+`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdPasswordFailed,
    level: 5,
    description: "sshd: authentication failed (password or keyboard-interactive)",
    groups: ["syslog", "sshd", "authentication_failed"],
    mitre: ["T1110.001", "T1021.004"],
    // Fields come from the parent's regex: no second regex on an attack's lines.
    match: {
      parent: [R.sshdInvalidUser, R.sshdFailed],
      contains: ["Failed password", "Failed keyboard", "authentication error"],
    },
    foldBy: ["host", "srcip"],
  },
  // Wazuh's level-0 duplicates: under 5710 (after its failure children, which no such line matches) they silence
  // the lines that repeat an "Invalid user" line.
  {
    id: R.sshdDuplicate,
    level: 0,
    description: "sshd: duplicated message without a user or address",
    groups: ["syslog", "sshd"],
    match: {
      parent: [R.sshd, R.sshdInvalidUser],
      contains: [
        "input_userauth_request: invalid user",
        "PAM: User not known to the underlying authentication module for illegal user",
        "error retrieving information about user",
      ],
    },
  },
  {
    id: R.sshdAccepted,
    level: 3,
    description: "sshd: authentication success",
    groups: ["syslog", "sshd", "authentication_success"],
    mitre: ["T1078", "T1021"],
    match: {
      parent: R.sshd,
      contains: "Accepted ",
      regex: String.raw`^Accepted (?<method>\S+) for (?<user>.*) from (?<srcip>${IP}) port \d+`,
    },
    // Routine and frequent: one alert per user and host, its count rising (addresses in its events).
    foldBy: ["host", "user"],
  },
  {
    id: R.sshdRootLogin,
    level: 6,
    description: "sshd: root logged in",
    groups: ["syslog", "sshd", "authentication_success"],
    mitre: ["T1078.003"],
    match: { parent: R.sshdAccepted, contains: " for root from " },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdDeniedUser,
    level: 5,
    description: "sshd: attempt to log in with a denied user (AllowUsers, DenyUsers, AllowGroups)",
    groups: ["syslog", "sshd", "invalid_login"],
    mitre: ["T1110"],
    match: {
      parent: R.sshd,
      contains: " not allowed because ",
      regex: String
        .raw`^User (?<user>.*) from (?<srcip>\S+) not allowed because (?<reason>[^\[]*?)(?: \[preauth\])?$`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdNoIdentification,
    level: 6,
    description: "sshd: insecure connection attempt (scan)",
    groups: ["syslog", "sshd", "recon"],
    mitre: ["T1021.004"],
    match: {
      parent: R.sshd,
      contains: "Did not receive identification string from ",
      regex: String.raw`identification string from (?<srcip>${IP})`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdBadProtocol,
    level: 8,
    description: "sshd: possible attack on the ssh server (or version gathering)",
    groups: ["syslog", "sshd", "recon"],
    mitre: ["T1190"],
    match: {
      parent: R.sshd,
      contains: "Bad protocol version identification",
      regex: String.raw`from (?<srcip>${IP})(?: port \d+)?$`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdReverseLookup,
    level: 5,
    description: "sshd: reverse lookup error (bad ISP or attack)",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "reverse mapping checking getaddrinfo for ",
      regex: String.raw`for (?<hostname>\S+) \[(?<srcip>${IP})\] failed`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdBadDns,
    level: 0,
    description: "sshd: bad DNS mapping (address maps to a name that does not map back)",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
      regex: String.raw`^Address (?<srcip>${IP}) maps to (?<hostname>\S+),`,
    },
  },
  {
    id: R.sshdBadModes,
    level: 3,
    description: "sshd: authentication refused due to owner/permissions of authorized_keys",
    groups: ["syslog", "sshd", "authentication_failed"],
    match: {
      parent: R.sshd,
      contains: "bad ownership or modes for ",
      regex: String.raw`bad ownership or modes for (?:file|directory) (?<file>\S+)`,
    },
    foldBy: ["host", "file"],
  },
  {
    id: R.sshdLoginTimeout,
    level: 4,
    description: "sshd: timeout while logging in",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "fatal: Timeout before authentication for ",
      regex: String.raw`authentication for (?<srcip>${IP})`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdNegotiation,
    level: 0,
    description: "sshd: could not negotiate with client",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: ["Unable to negotiate with ", "Unable to negotiate a key", "fatal: no matching"],
      regex: String
        .raw`Unable to negotiate with (?<srcip>${IP})|Unable to negotiate a key|fatal: no matching`,
    },
  },
  {
    id: R.sshdNoKex,
    level: 2,
    description: "sshd: client did not offer an acceptable key exchange method",
    groups: ["syslog", "sshd"],
    mitre: ["T1048.001"],
    match: {
      parent: R.sshdNegotiation,
      contains: ["no matching key exchange method found", "Unable to negotiate a key exchange"],
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdNoCipher,
    level: 2,
    description: "sshd: could not negotiate with client, no matching cipher",
    groups: ["syslog", "sshd"],
    match: { parent: R.sshdNegotiation, contains: "no matching cipher found" },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdNoMac,
    level: 2,
    description: "sshd: could not negotiate with client, no matching mac",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshdNegotiation,
      contains: ["no matching MAC found", "no matching mac found"],
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdResetByPeer,
    level: 4,
    description: "sshd: connection reset by peer",
    groups: ["syslog", "sshd"],
    match: { parent: R.sshd, regex: String.raw`Connection reset by peer$` },
  },
  {
    id: R.sshdConnectionReset,
    level: 4,
    description: "sshd: connection reset",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "Connection reset by ",
      regex: String
        .raw`Connection reset by (?:(?:authenticating|invalid) user (?<user>.*) )?(?<srcip>${IP}) port \d+`,
    },
    foldBy: ["host", "srcip"],
  },
  {
    id: R.sshdConnectionClosed,
    level: 0,
    description: "sshd: ssh connection closed",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "Connection closed by ",
      regex: String
        .raw`Connection closed by (?:(?:authenticating|invalid) user (?<user>.*) )?(?<srcip>${IP}) port \d+`,
    },
  },
  {
    id: R.sshdReceivedDisconnect,
    level: 0,
    description: "sshd: system disconnected from sshd",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "Received disconnect from ",
      regex: String.raw`Received disconnect from (?<srcip>${IP})`,
    },
  },
  {
    id: R.sshdDisconnectedUser,
    level: 0,
    description: "sshd: ssh connection closed (user disconnected)",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "Disconnected from user ",
      regex: String.raw`Disconnected from user (?<user>.*) (?<srcip>${IP}) port \d+`,
    },
  },
  {
    id: R.sshdPreauthDisconnect,
    level: 0,
    description: "sshd: client disconnected before authenticating",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: "Disconnected from ",
      regex: String
        .raw`Disconnected from (?:authenticating user (?<user>.*) )?(?<srcip>${IP}) port \d+ \[preauth\]$`,
    },
  },
  {
    id: R.sshdUseless,
    level: 0,
    description: "sshd: useless message without a user or address",
    groups: ["syslog", "sshd"],
    match: {
      parent: R.sshd,
      contains: [
        "error: Could not get shadow information for NOUSER",
        "fatal: Read from socket failed: ",
        "error: ssh_msg_send: write",
        "syslogin_perform_logout: ",
        "can't verify hostname: getaddrinfo",
      ],
    },
  },
  // Wazuh's sshd errors and debug messages of the same meaning.
  ...([
    [
      R.sshdAuthorizedKeysCommand,
      4,
      "sshd: configuration error (AuthorizedKeysCommand)",
      String.raw`^error: Could not stat AuthorizedKeysCommand`,
    ],
    [R.sshdConnectionRefused, 4, "sshd: connection refused", String.raw`Connection refused$`],
    [R.sshdConnectionTimedOut, 4, "sshd: connection timed out", String.raw`Connection timed out$`],
    [R.sshdNoRoute, 4, "sshd: no route to host", String.raw`No route to host$`],
    [R.sshdForwarding, 4, "sshd: port forwarding issue", String.raw`failure direct-tcpip$`],
    [
      R.sshdNotConnected,
      4,
      "sshd: transport endpoint is not connected",
      String.raw`Transport endpoint is not connected$`,
    ],
    [R.sshdRemotePort, 4, "sshd: get_remote_port failed", String.raw`get_remote_port failed$`],
    [R.sshdBadDh, 6, "sshd: bad client public DH value", String.raw`bad client public DH value`],
    [R.sshdCorruptedMac, 6, "sshd: corrupted MAC on input", String.raw`Corrupted MAC on input\.`],
    [R.sshdBadPacketLength, 4, "sshd: bad packet length", String.raw`^Bad packet length`],
    [
      R.sshdSessionFailed,
      1,
      "sshd: failed to create a session",
      String.raw`Failed to create session: `,
    ],
    [
      R.sshdSubsystem,
      0,
      "sshd: subsystem request failed",
      String.raw` failed, subsystem not found$`,
    ],
  ] as const).map(([id, level, description, regex]): RuleDefinition => ({
    id,
    level,
    description,
    groups: ["syslog", "sshd"],
    ...(id === R.sshdAuthorizedKeysCommand ? { mitre: ["T1098.004"] } : {}),
    ...(id === R.sshdForwarding ? { mitre: ["T1572"] } : {}),
    match: { parent: R.sshd, regex },
  })),
  // --- sshd correlations ---
  {
    id: R.sshdBruteForce,
    level: 10,
    description: "sshd: brute force trying to get access to the system: authentication failed",
    groups: ["syslog", "sshd", "authentication_failures"],
    mitre: ["T1110"],
    match: { parent: R.sshdPasswordFailed },
    frequency: { count: 8, withinSeconds: 120 },
    sameField: "srcip",
  },
  {
    id: R.sshdInvalidUsersBruteForce,
    level: 10,
    description: "sshd: brute force trying to get access to the system: non-existent user",
    groups: ["syslog", "sshd", "authentication_failures"],
    mitre: ["T1110"],
    match: { parent: R.sshdInvalidUser },
    frequency: { count: 8, withinSeconds: 120 },
    sameField: "srcip",
  },
  {
    id: R.sshdFailures,
    level: 10,
    description: "sshd: multiple authentication failures",
    groups: ["syslog", "sshd", "authentication_failures"],
    mitre: ["T1110"],
    match: { parent: R.sshdFailed },
    frequency: { count: 8, withinSeconds: 360 },
    sameField: "srcip",
  },
  {
    id: R.sshdDeniedUsers,
    level: 10,
    description: "sshd: multiple access attempts using a denied user",
    groups: ["syslog", "sshd", "invalid_login"],
    mitre: ["T1110"],
    match: { parent: R.sshdDeniedUser },
    frequency: { count: 8, withinSeconds: 120 },
  },
  {
    id: R.sshdReverseLookups,
    level: 10,
    description: "sshd: possible break-in attempt (high number of reverse lookup errors)",
    groups: ["syslog", "sshd"],
    mitre: ["T1110"],
    match: { parent: R.sshdReverseLookup },
    frequency: { count: 6, withinSeconds: 360 },
    sameField: "srcip",
  },
  {
    id: R.sshdLoginTimeouts,
    level: 10,
    description: "sshd: possible scan or break-in attempt (high number of login timeouts)",
    groups: ["syslog", "sshd"],
    mitre: ["T1190", "T1110"],
    match: { parent: R.sshdLoginTimeout },
    frequency: { count: 6, withinSeconds: 360 },
  },
  {
    id: R.sshdScan,
    level: 10,
    description:
      "sshd: scan from one address: 10 connections ended before authentication within 120 s",
    groups: ["syslog", "sshd", "recon"],
    mitre: ["T1046"],
    match: {
      parent: [
        R.sshdNoIdentification,
        R.sshdBadProtocol,
        R.sshdConnectionClosed,
        R.sshdConnectionReset,
        R.sshdPreauthDisconnect,
        R.sshdNoKex,
        R.sshdNoCipher,
        R.sshdNoMac,
      ],
    },
    frequency: { count: 10, withinSeconds: 120 },
    sameField: "srcip",
  },
  {
    id: R.successAfterFailures,
    level: 12,
    description: "Multiple authentication failures followed by a success",
    groups: ["syslog", "attack", "authentication_success"],
    mitre: ["T1078", "T1110"],
    match: { parent: [R.sshdAccepted, R.sshdRootLogin] },
    after: {
      rules: [R.sshdBruteForce, R.sshdInvalidUsersBruteForce, R.sshdFailures],
      withinSeconds: 240,
    },
    sameField: "srcip",
    foldBy: ["srcip", "user"],
  },
  // --- PAM (Wazuh 0085-pam_rules), any program; old `su(pam_unix)` tags included ---
  {
    id: R.pamSessionOpened,
    level: 3,
    description: "PAM: login session opened",
    groups: ["pam", "syslog", "authentication_success"],
    mitre: ["T1078"],
    match: {
      contains: "session opened for user ",
      regex: String
        .raw`^(?:pam_\w+\((?<service>[^:)]+):session\): )?session opened for user (?<user>[^\s(]+)`,
    },
    foldBy: ["host", "program", "user"],
  },
  {
    id: R.pamCronOpened,
    level: 0,
    description: "PAM: cron session opened (ignored)",
    groups: ["pam", "syslog"],
    match: { parent: R.pamSessionOpened, program: "CRON", contains: "pam_unix(cron:session)" },
  },
  {
    id: R.pamSessionClosed,
    level: 3,
    description: "PAM: login session closed",
    groups: ["pam", "syslog"],
    match: {
      contains: "session closed for user ",
      regex: String
        .raw`^(?:pam_\w+\((?<service>[^:)]+):session\): )?session closed for user (?<user>[^\s(]+)`,
    },
    foldBy: ["host", "program", "user"],
  },
  {
    id: R.pamCronClosed,
    level: 0,
    description: "PAM: cron session closed (ignored)",
    groups: ["pam", "syslog"],
    match: { parent: R.pamSessionClosed, program: "CRON", contains: "pam_unix(cron:session)" },
  },
  {
    id: R.pamFailure,
    level: 5,
    description: "PAM: user login failed",
    groups: ["pam", "syslog", "authentication_failed"],
    mitre: ["T1110.001"],
    match: {
      contains: "authentication failure; logname=",
      regex: String
        .raw`^(?:pam_\w+\((?<service>[^:)]+):auth\): )?authentication failure; logname=(?<logname>\S*) uid=\d* euid=\d* tty=(?<tty>\S*) ruser=(?<ruser>\S*) rhost=(?<srcip>\S*)(?:\s+user=(?<user>\S+))?`,
    },
    foldBy: ["host", "program", "srcip", "user"],
  },
  {
    id: R.pamReportedElsewhere,
    level: 0,
    description: "PAM: authentication failure that sshd's or su's own rules report",
    groups: ["pam", "syslog"],
    match: { parent: R.pamFailure, program: [...SSHD, "su"] },
  },
  {
    id: R.pamFailures,
    level: 10,
    description: "PAM: multiple failed logins in a small period of time",
    groups: ["pam", "syslog", "authentication_failures"],
    mitre: ["T1110"],
    match: { parent: R.pamFailure },
    frequency: { count: 8, withinSeconds: 180 },
    sameField: "srcip",
  },
  {
    id: R.pamUnknownUser,
    level: 5,
    description: "PAM: attempt to log in with an invalid user",
    groups: ["pam", "syslog", "invalid_login"],
    match: { contains: "check pass; user unknown" },
  },
  {
    id: R.repeatedFailures,
    level: 10,
    description: "syslog: user missed the password more than one time",
    groups: ["syslog", "access_control", "authentication_failed"],
    mitre: ["T1110"],
    match: {
      contains: ["more authentication failures;", "REPEATED login failures"],
      regex: String
        .raw`more authentication failures;.*? rhost=(?<srcip>\S*)(?:\s+user=(?<user>\S+))?|REPEATED login failures`,
    },
    foldBy: ["host", "program", "srcip", "user"],
  },
  {
    id: R.rootLoginRefused,
    level: 9,
    description: "syslog: illegal root login",
    groups: ["syslog", "access_control", "invalid_login"],
    mitre: ["T1078.003"],
    match: { contains: ["ILLEGAL ROOT LOGIN", "ROOT LOGIN REFUSED"] },
  },
  {
    id: R.rootLoginConsole,
    level: 3,
    description: "syslog: physical root login",
    groups: ["syslog", "access_control"],
    match: { contains: "ROOT LOGIN ", regex: String.raw`^ROOT LOGIN +(?:ON|on) (?<tty>\S+)` },
  },
  {
    id: R.chkpwdFailed,
    level: 5,
    description: "unix_chkpwd: password check failed",
    groups: ["pam", "syslog", "authentication_failed"],
    mitre: ["T1110.001"],
    match: {
      program: "unix_chkpwd",
      contains: "password check failed",
      regex: String.raw`password check failed for user \((?<user>[^)]*)\)`,
    },
  },
  // --- sudo (Wazuh 0020-syslog_rules) ---
  {
    id: R.sudo,
    level: 0,
    description: "sudo: messages grouped",
    groups: ["syslog", "sudo"],
    match: { program: "sudo" },
  },
  {
    id: R.sudoFailed,
    level: 5,
    description: "sudo: failed attempt to run sudo (incorrect password)",
    groups: ["syslog", "sudo", "authentication_failed"],
    mitre: ["T1548.003"],
    match: {
      parent: R.sudo,
      contains: "incorrect password attempt",
      regex: String
        .raw`^\s*(?<user>\S+) : (?<attempts>\d+) incorrect password attempts? ;.*? USER=(?<runas>\S+) ;.*? COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoThreeFailures,
    level: 10,
    description: "sudo: three failed attempts to run sudo",
    groups: ["syslog", "sudo", "authentication_failed"],
    mitre: ["T1548.003"],
    match: {
      parent: R.sudoFailed,
      regex: String.raw` : (?:[3-9]|[1-9]\d+) incorrect password attempts ;`,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoNotInSudoers,
    level: 5,
    description: "sudo: unauthorized user attempted to use sudo (not in sudoers)",
    groups: ["syslog", "sudo"],
    mitre: ["T1548.003"],
    match: {
      parent: R.sudo,
      contains: "user NOT in sudoers",
      regex: String.raw`^\s*(?<user>\S+) : `,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoCommandNotAllowed,
    level: 5,
    description: "sudo: command not allowed",
    groups: ["syslog", "sudo"],
    match: {
      parent: R.sudo,
      contains: "command not allowed",
      regex: String.raw`^\s*(?<user>\S+) : .*? COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoNotOnHost,
    level: 5,
    description: "sudo: user not allowed to run sudo on this host",
    groups: ["syslog", "sudo"],
    mitre: ["T1548.003"],
    match: {
      parent: R.sudo,
      contains: "user NOT authorized on host",
      regex: String.raw`^\s*(?<user>\S+) : `,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.sudoToRoot,
    level: 3,
    description: "sudo: successful sudo to root executed",
    groups: ["syslog", "sudo"],
    mitre: ["T1548.003"],
    match: {
      parent: R.sudo,
      contains: " ; USER=root ; ",
      regex: String
        .raw`^\s*(?<user>\S+) : (?:TTY=(?<tty>\S+) ; )?PWD=(?<pwd>.*?) ; USER=root ; (?:.*? ; )?COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user", "command"],
  },
  {
    id: R.sudoRun,
    level: 3,
    description: "sudo: successful sudo executed",
    groups: ["syslog", "sudo"],
    mitre: ["T1548.003"],
    match: {
      parent: R.sudo,
      contains: " ; COMMAND=",
      regex: String
        .raw`^\s*(?<user>\S+) : (?:TTY=(?<tty>\S+) ; )?PWD=(?<pwd>.*?) ; USER=(?<runas>\S+) ; (?:.*? ; )?COMMAND=(?<command>.*)$`,
    },
    foldBy: ["host", "user", "runas"],
  },
  // --- su (Wazuh 0020-syslog_rules): util-linux, shadow, BSD and Solaris forms ---
  {
    id: R.su,
    level: 0,
    description: "su: messages grouped",
    groups: ["syslog", "su"],
    match: { program: "su" },
  },
  {
    id: R.suFailed,
    level: 5,
    description: "su: user missed the password to change UID (user id)",
    groups: ["syslog", "su", "authentication_failed"],
    match: {
      parent: R.su,
      regex: String
        .raw`^(?:FAILED SU \(to (?<runas>[^)]*)\) (?<user>\S+) on (?<tty>\S+)|FAILED su for (?<runas>\S+) by (?<user>\S+)|BAD SU (?<user>\S+) to (?<runas>\S+)(?: on (?<tty>\S+))?|failed: (?<tty>\S+) changing from (?<user>\S+) to (?<runas>\S+)|pam_\w+\(su(?:-l)?:auth\): authentication failure;.*? ruser=(?<user>\S*) rhost=\S*\s+user=(?<runas>\S+)|SU \S+ \S+ - (?<tty>\S+) (?<user>[^-\s]+)-(?<runas>\S+)|'su (?<runas>\S+)' failed for (?<user>\S+) on (?<tty>\S+))`,
    },
    foldBy: ["host", "user", "runas"],
  },
  {
    id: R.suFailedToRoot,
    level: 9,
    description: "su: user missed the password to change UID to root",
    groups: ["syslog", "su", "authentication_failed"],
    mitre: ["T1548"],
    match: {
      parent: R.suFailed,
      regex: String
        .raw`\(to root\)| to root(?: on |$)|FAILED su for root |user=root$|-root$|'su root' failed`,
    },
    foldBy: ["host", "user", "runas"],
  },
  {
    id: R.suToRoot,
    level: 3,
    description: "su: user successfully changed UID to root",
    groups: ["syslog", "su", "authentication_success"],
    mitre: ["T1078"],
    match: {
      parent: R.su,
      regex: String
        .raw`^(?:\(to root\) (?<user>\S+) on (?<tty>\S+)|(?<user>\S+) to root on (?<tty>\S+)|Successful su for root by (?<user>\S+)|SU \S+ \S+ \+ (?<tty>\S+) (?<user>[^-\s]+)-root|'su root' succeeded for (?<user>\S+) on (?<tty>\S+))$`,
    },
    foldBy: ["host", "user"],
  },
  {
    id: R.suOk,
    level: 3,
    description: "su: user successfully changed UID",
    groups: ["syslog", "su", "authentication_success"],
    mitre: ["T1078"],
    match: {
      parent: R.su,
      regex: String
        .raw`^(?:\(to (?<runas>[^)]+)\) (?<user>\S+) on (?<tty>\S+)|(?<user>\S+) to (?<runas>\S+) on (?<tty>\S+)|Successful su for (?<runas>\S+) by (?<user>\S+)|SU \S+ \S+ \+ (?<tty>\S+) (?<user>[^-\s]+)-(?<runas>\S+)|'su (?<runas>\S+)' succeeded for (?<user>\S+) on (?<tty>\S+))$`,
    },
    foldBy: ["host", "user", "runas"],
  },
  // --- kernel (Wazuh 0020-syslog_rules) ---
  {
    id: R.kernel,
    level: 0,
    description: "kernel: messages grouped",
    groups: ["syslog", "linuxkernel"],
    match: { program: "kernel" },
  },
  {
    id: R.kernelOutOfMemory,
    level: 12,
    description: "kernel: system running out of memory, a process was killed",
    groups: ["syslog", "linuxkernel", "service_availability"],
    mitre: ["T1499"],
    match: {
      parent: R.kernel,
      contains: "ut of memory: ",
      regex: String
        .raw`(?:Out of memory|Memory cgroup out of memory): Kill(?:ed)? process (?<killed_pid>\d+) \((?<process>[^)]*)\)`,
    },
    foldBy: ["host", "process"],
  },
  {
    id: R.kernelPromiscuous,
    level: 8,
    description: "kernel: interface entered promiscuous (sniffing) mode",
    groups: ["syslog", "linuxkernel", "promisc"],
    mitre: ["T1040"],
    match: {
      parent: R.kernel,
      contains: "promiscuous mode",
      regex: String.raw`device (?<interface>\S+) entered promiscuous mode`,
    },
    foldBy: ["host", "interface"],
  },
  {
    id: R.kernelProtectionFault,
    level: 7,
    description: "kernel: process crashed with a general protection fault",
    groups: ["syslog", "linuxkernel", "crash"],
    match: {
      parent: R.kernel,
      contains: "general protection fault",
      regex: String
        .raw`traps: (?<process>[^\s\[]+)\[(?<process_pid>\d+)\] general protection fault`,
    },
    foldBy: ["host", "process"],
  },
  {
    id: R.segfault,
    level: 5,
    description: "Process segfaulted",
    groups: ["syslog", "errors", "service_availability"],
    match: {
      contains: "segfault at ",
      regex: String
        .raw`(?<process>[^\s\[]+)\[(?<process_pid>\d+)\]: segfault at (?<address>[0-9a-fA-F]+)`,
    },
    foldBy: ["host", "process"],
  },
  // --- systemd (Wazuh 0285-systemd_rules) ---
  {
    id: R.systemd,
    level: 0,
    description: "systemd: messages grouped",
    groups: ["local", "systemd"],
    match: { program: ["systemd", "systemctl"] },
  },
  {
    id: R.systemdCrash,
    level: 7,
    description: "systemd: service process killed by a signal or dumped core",
    groups: ["systemd", "crash"],
    match: {
      parent: R.systemd,
      contains: "Main process exited, code=",
      regex: String
        .raw`^(?<unit>\S+\.service): Main process exited, code=(?<code>killed|dumped), status=(?<status>\S+)`,
    },
    foldBy: ["host", "unit"],
  },
  {
    id: R.systemdExitFailure,
    level: 5,
    description: "systemd: service exited due to a failure",
    groups: ["local", "systemd"],
    match: {
      parent: R.systemd,
      contains: "status=1/FAILURE",
      regex: String.raw`^(?<unit>\S+?):? Main process exited`,
    },
    foldBy: ["host", "unit"],
  },
  {
    id: R.systemdFailedState,
    level: 5,
    description: "systemd: service has entered a failed state, and likely has not started",
    groups: ["local", "systemd"],
    match: {
      parent: R.systemd,
      contains: ["entered failed state", "Failed with result '"],
      regex: String
        .raw`^(?:Unit )?(?<unit>\S+?\.(?:service|socket|mount|timer))(?::| entered failed state)`,
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
      contains: "dumped core",
      regex: String
        .raw`^Process (?<process_pid>\d+) \((?<process>[^)]*)\) of user (?<uid>\d+) dumped core`,
    },
    foldBy: ["host", "process"],
  },
  // --- NMS itself (server/security_event.ts): matched on the events' structured fields ---
  {
    id: R.nmsFailedLogin,
    level: 5,
    description: "NMS: failed login to the NMS server",
    groups: ["nms", "authentication_failed"],
    mitre: ["T1110"],
    match: {
      program: NMS_PROGRAM,
      internal: true,
      msgid: SECURITY_EVENT_KINDS.loginFailed,
      params: ["user", "srcip", "channel"],
    },
    foldBy: ["srcip"],
  },
  {
    id: R.nmsRepeatedFailedLogins,
    level: 10,
    description: "NMS: 5 failed logins to the NMS server from one address within 60 s",
    groups: ["nms", "authentication_failures"],
    mitre: ["T1110"],
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
      internal: true,
      msgid: SECURITY_EVENT_KINDS.agentRegistered,
      params: ["agent", "srcip"],
    },
    foldBy: ["agent"],
  },
  {
    id: R.nmsAgentSilent,
    level: 7,
    description: "NMS: agent silent (no heartbeat for 3 intervals)",
    groups: ["nms", "agent"],
    match: {
      program: NMS_PROGRAM,
      internal: true,
      msgid: SECURITY_EVENT_KINDS.agentSilent,
      params: ["agent"],
    },
    foldBy: ["agent"],
  },
];

/**
 * Where an old database's alerts went: the id each built-in rule had before
 * the rules took Wazuh's ids, and the id of the same meaning now. The
 * migrations apply it to stored alerts; docs/RULES.md lists it.
 */
export const RENUMBERED_RULE_IDS: readonly (readonly [old: number, now: number])[] = [
  [5700, R.sshdPasswordFailed],
  [5701, R.sshdInvalidUser],
  [5702, R.sshdAccepted],
  [5703, R.sshdPreauthDisconnect],
  [5710, R.sshdBruteForce],
  [5711, R.sshdInvalidUsersBruteForce],
  [5712, R.successAfterFailures],
  [5500, R.pamFailure],
  [5401, R.pamFailure],
  [5402, R.sudoFailed],
  [5403, R.sudoNotInSudoers],
  [5404, R.sudoToRoot],
  [5301, R.pamFailure],
  [5302, R.suFailed],
  [5101, R.kernelOutOfMemory],
  [5102, R.segfault],
  [5103, R.kernelProtectionFault],
  [5901, R.systemdCrash],
  [5902, R.systemdFailedState],
  [5903, R.coredump],
  [8801, R.nmsFailedLogin],
  [8802, R.nmsRepeatedFailedLogins],
  [8803, R.nmsAgentRegistered],
  [8804, R.nmsAgentSilent],
];

/**
 * Every fixed string the server writes on the wire: the welcome line and the
 * text of each `ACK`. Code, tests and docs/PROTOCOL.md use these constants so
 * they agree byte for byte.
 *
 * @module
 */

/** The first line the server sends on every new connection. */
export const WELCOME_LINE = "Welcome to the NMS server (protocol 1)";

/** `ACK OK` texts, one per successful command. */
export const OK = {
  login: "Login successful",
  register: "Registration successful",
  heartbeat: "Heartbeat received",
  event: "Event received",
  /** An `EVENT` whose origin the server had already stored: nothing new was written. */
  duplicate: "Duplicate event",
  goodbye: "Goodbye",
} as const;

/** `ACK FAIL` reasons. Each names what was wrong with the line. */
export const FAIL = {
  invalidCredentials: "Invalid credentials",
  notLoggedIn: "Not logged in",
  alreadyLoggedIn: "Already logged in",
  unknownCommand: "Unknown command",
  emptyLine: "Empty line",
  lineTooLong: "Line too long",
  nulByte: "NUL byte in line",
  tooManyBadLines: "Too many bad lines, closing connection",
  usageLogin: "Usage: LOGIN <username> <password>",
  usageRegister: "Usage: REGISTER <version> <hostname> <os>",
  usageHeartbeat: "Usage: HEARTBEAT <uptime_seconds> [lag=<bytes>]",
  usageBatchEvent: "Usage: BATCH_EVENT <log_message>",
  usageEvent: "Usage: EVENT <stream> <position> <log_message>",
  usageBye: "Usage: BYE",
  notRegistered: "Not registered",
  forbidden: "Not allowed for this role",
  internalError: "Internal error",
  shuttingDown: "Server shutting down",
} as const;

/** An `ACK OK` text. */
export type OkMessage = typeof OK[keyof typeof OK];
/** An `ACK FAIL` reason. */
export type FailReason = typeof FAIL[keyof typeof FAIL];

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
  /** Followed by a space and the ticket: `ACK OK Ticket <ticket>` answers `TICKET`. */
  ticket: "Ticket",
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
  usageTicket: "Usage: TICKET",
  /** TICKET after a login that was not with a password (a token or a ticket). */
  noTicket: "No ticket for this login",
  notRegistered: "Not registered",
  forbidden: "Not allowed for this role",
  internalError: "Internal error",
  shuttingDown: "Server shutting down",
  // Limits, lockout and credentials (docs/SECURITY.md).
  /** LOGIN refused without checking the password: the user or address is cooling off. */
  tooManyFailures: "Too many failed logins, try again later",
  /** Sent instead of the welcome line when the server holds its most connections. */
  tooManyConnections: "Too many connections, try again later",
  /** Sent instead of the welcome line when the client's address holds its most connections. */
  tooManyConnectionsFromAddress: "Too many connections from this address",
  /** Sent before closing a connection that sent nothing for the idle timeout. */
  idleTimeout: "Idle for too long, closing connection",
  /** Sent before closing a connection that held a line incomplete for the line timeout. */
  lineTimeout: "Line incomplete for too long, closing connection",
  /** Sent before closing a connection that did not log in within the login timeout. */
  loginTimeout: "Not logged in in time, closing connection",
  /** Sent before closing a connection whose agent token was revoked. */
  credentialRevoked: "Credential revoked, closing connection",
  /** REGISTER with a hostname the token or client certificate is not bound to. */
  hostnameNotAllowed: "Hostname not allowed for this credential",
} as const;

/**
 * User name of the token variant of LOGIN: `LOGIN @token nms_<id>_<secret>`
 * authenticates with an agent enrollment token instead of a password. No
 * user account can have this name (user names never start with `@`).
 */
export const TOKEN_LOGIN_USER = "@token";

/**
 * User name of the ticket variant of LOGIN: `LOGIN @ticket <ticket>` resumes
 * with a ticket the server handed out after a password LOGIN (`TICKET`).
 */
export const TICKET_LOGIN_USER = "@ticket";

/** An `ACK OK` text. */
export type OkMessage = typeof OK[keyof typeof OK];
/** An `ACK FAIL` reason. */
export type FailReason = typeof FAIL[keyof typeof FAIL];

/**
 * The commands of the NMS protocol as plain data. A command is one line on the
 * wire; {@linkcode parseCommand} and {@linkcode formatCommand} in `codec.ts`
 * convert between the two.
 *
 * @module
 */

/** `LOGIN <username> <password>`: authenticate the connection. */
export interface LoginCommand {
  /** The verb, which tells the command kinds apart. */
  readonly type: "LOGIN";
  /** The account to log in as. */
  readonly username: string;
  /** Everything after the username, so a password may contain spaces. */
  readonly password: string;
}

/** `REGISTER <version> <hostname> <os>`: announce this connection as an agent. */
export interface RegisterCommand {
  /** The verb, which tells the command kinds apart. */
  readonly type: "REGISTER";
  /** The agent's version. */
  readonly version: string;
  /** The name of the agent's host, shown as the node's name. */
  readonly hostname: string;
  /** Everything after the hostname, e.g. `Debian GNU/Linux 12 (bookworm)`. */
  readonly os: string;
}

/** `HEARTBEAT <uptime_seconds> [lag=<bytes>]`: the agent is alive. */
export interface HeartbeatCommand {
  /** The verb, which tells the command kinds apart. */
  readonly type: "HEARTBEAT";
  /** Seconds the agent has been running. */
  readonly uptimeSeconds: number;
  /** Bytes the agent's followed files are ahead of what the server acknowledged. */
  readonly lagBytes?: number;
}

/** `BATCH_EVENT <log_message>`: one log line, as in the paper. */
export interface BatchEventCommand {
  /** The verb, which tells the command kinds apart. */
  readonly type: "BATCH_EVENT";
  /** The log line itself. */
  readonly message: string;
}

/**
 * `EVENT <stream> <position> <log_message>`: one log line with its origin.
 * The server stores each (stream, position) pair at most once, which makes a
 * resend after a lost acknowledgement harmless (docs/PROTOCOL.md).
 */
export interface EventCommand {
  /** The verb, which tells the command kinds apart. */
  readonly type: "EVENT";
  /** Globally unique id of one incarnation of one source, e.g. a followed file. */
  readonly stream: string;
  /** Position of the line in its stream; strictly increasing within the stream. */
  readonly position: number;
  /** The log line itself. */
  readonly message: string;
}

/** `BYE`: a clean shutdown; the node is shown as Stopped rather than Disconnected. */
export interface ByeCommand {
  /** The verb, which tells the command kinds apart. */
  readonly type: "BYE";
}

/**
 * `TICKET`: after a password LOGIN, asks for a resumption ticket, answered
 * `ACK OK Ticket <ticket>` (docs/PROTOCOL.md). The next connection logs in
 * with `LOGIN @ticket <ticket>`, which the server checks without hashing the
 * password again. An extension: the paper's clients never send it.
 */
export interface TicketCommand {
  /** The command's name. */
  readonly type: "TICKET";
}

/** Any command a client may send. */
export type Command =
  | LoginCommand
  | TicketCommand
  | RegisterCommand
  | HeartbeatCommand
  | BatchEventCommand
  | EventCommand
  | ByeCommand;

/** The verb of a command, e.g. `"LOGIN"`. */
export type CommandType = Command["type"];

/** `ACK <OK|FAIL> <message>`: the server's answer to exactly one line. */
export interface Ack {
  /** Whether the line was accepted (`ACK OK`) or refused (`ACK FAIL`). */
  readonly ok: boolean;
  /** What happened, or why the line was refused. */
  readonly message: string;
}

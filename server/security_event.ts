/**
 * Events that NMS writes about itself (logins, registrations), stored beside
 * the collected logs so that the dashboard and rules see them too.
 *
 * Each event carries its kind as MSGID and its facts as RFC 5424 structured
 * data (`[nms@32473 user="admin" srcip="10.0.0.9" channel="console"]`), so the
 * rules match the same fields whichever door a login came through (agent
 * protocol, web console, command line), and never parse the human text. The
 * user name is the client's: it is cut to {@linkcode MAX_EVENT_USER_CHARS},
 * escaped in the structured data and quoted by the caller in the text.
 *
 * @module
 */

import { formatStructuredData } from "./log_formats/mod.ts";
import { EVENT_FLAGS, type EventBatch } from "./store/mod.ts";

/** Program name under which NMS's own events are stored. */
export const NMS_PROGRAM = "nms-server";

/** SD-ID of NMS's structured data (32473 is the example enterprise number of RFC 5424). */
export const NMS_SD_ID = "nms@32473";

/** Syslog facility of NMS's own events: 10, security/authorization (authpriv). */
const AUTHPRIV_FACILITY = 10;

/**
 * Longest part of a claimed user name written into a security event, in
 * characters, in its text and its fields: it is the client's text, so a
 * longer one is cut.
 */
export const MAX_EVENT_USER_CHARS = 32;

/** Kinds of NMS events, stored as their MSGID; the built-in rules match these. */
export const SECURITY_EVENT_KINDS = {
  loginFailed: "login-failed",
  loginOk: "login-ok",
  loginRefused: "login-refused",
  loginLocked: "login-locked",
  /** A summary of login events over their budget (server/auth/login_events.ts). */
  loginSuppressed: "login-suppressed",
  agentRegistered: "agent-registered",
  agentSilent: "agent-silent",
} as const;

/** One of {@linkcode SECURITY_EVENT_KINDS}. */
export type SecurityEventKind = typeof SECURITY_EVENT_KINDS[keyof typeof SECURITY_EVENT_KINDS];

/** Where a login came from: the door, not the address. */
export type LoginChannel = "agent" | "console" | "cli";

/** Structured facts of an NMS event; each becomes a structured-data parameter. */
export interface SecurityEventFields {
  readonly user?: string;
  /** Client address, without port. */
  readonly srcip?: string;
  readonly srcport?: string;
  readonly channel?: LoginChannel;
  readonly agent?: string;
}

/** An NMS event before it is stored. */
export interface SecurityEventInput {
  /** Ms since the epoch. */
  readonly at: number;
  /** Syslog severity 0-7. */
  readonly severity: number;
  /** What happened, for people. */
  readonly message: string;
  /** What happened, for rules (stored as MSGID). */
  readonly kind?: SecurityEventKind;
  /** The facts, for rules (stored as structured data). */
  readonly fields?: SecurityEventFields;
}

/**
 * The fields of a login attempt: the user name cut to a short prefix, and the
 * client address split into address and port.
 *
 * @param user The user name the client sent.
 * @param address `ip:port`, `[ipv6]:port` or a bare address.
 * @param channel The door.
 * @returns The fields.
 * @example
 * ```ts
 * loginFields("admin", "[2001:db8::7]:5555", "agent"); // { user: "admin", srcip: "2001:db8::7", srcport: "5555", channel: "agent" }
 * ```
 */
export function loginFields(
  user: string,
  address: string,
  channel: LoginChannel,
): SecurityEventFields {
  const { ip, port } = splitAddress(address);
  return {
    user: user.slice(0, MAX_EVENT_USER_CHARS),
    srcip: ip,
    ...(port === null ? {} : { srcport: port }),
    channel,
  };
}

/** Splits `ip:port` or `[ipv6]:port`; a bare IPv4 or IPv6 address has no port. */
function splitAddress(address: string): { ip: string; port: string | null } {
  const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(address);
  if (bracketed) return { ip: bracketed[1]!, port: bracketed[2]! };
  const colon = address.lastIndexOf(":");
  if (colon > 0 && address.indexOf(":") === colon && /^\d+$/.test(address.slice(colon + 1))) {
    return { ip: address.slice(0, colon), port: address.slice(colon + 1) };
  }
  return { ip: address, port: null };
}

/**
 * Builds a one-event batch describing something NMS itself observed.
 *
 * @param event When, how severe (syslog 0-7), what happened, and its kind and fields.
 * @returns A batch ready for `Store.appendEvents`.
 * @example
 * ```ts
 * securityEvent({
 *   at: Date.now(), severity: 4, message: "Failed login for user admin from 10.0.0.9:5000",
 *   kind: "login-failed", fields: loginFields("admin", "10.0.0.9:5000", "agent"),
 * });
 * ```
 */
export function securityEvent(event: SecurityEventInput): EventBatch {
  const raw = `${new Date(event.at).toISOString()} ${NMS_PROGRAM}: ${event.message}`;
  const structured = event.fields ? formatStructuredData(NMS_SD_ID, { ...event.fields }) : null;
  return {
    count: 1,
    receivedAt: event.at,
    agentId: null,
    ts: Float64Array.of(event.at),
    host: [NMS_PROGRAM],
    program: [NMS_PROGRAM],
    pid: Int32Array.of(-1),
    severity: Int8Array.of(event.severity),
    facility: Int8Array.of(AUTHPRIV_FACILITY),
    message: [event.message],
    raw: [raw],
    flags: Uint8Array.of(EVENT_FLAGS.internal),
    stream: [null],
    position: Float64Array.of(-1),
    ...(event.kind ? { msgid: [event.kind] } : {}),
    ...(structured ? { structuredData: [structured] } : {}),
  };
}

/**
 * The text of a resumption ticket, as the server hands it out in
 * `ACK OK Ticket <ticket>` and the agent presents it in
 * `LOGIN @ticket <ticket>`: `t1.<user>.<expires>.<id>.<mac>`, where `<user>`
 * is the account name in unpadded base64url, `<expires>` the expiry in whole
 * seconds since the epoch, `<id>` 16 random bytes and `<mac>` the server's
 * 32-byte HMAC, both base64url. Only the format lives here (pure, bounded);
 * the key and the HMAC are the server's (server/auth/tickets.ts).
 *
 * @module
 */

import { OK } from "./messages.ts";

/** Version tag, the first field of every ticket. */
export const TICKET_VERSION = "t1";
/**
 * Longest ticket text in characters; a longer one is refused before it is
 * split. Room for a 64-character user name in base64url and the fixed fields.
 */
export const MAX_TICKET_CHARS = 256;
/** Random bytes of a ticket's id. */
export const TICKET_ID_BYTES = 16;
/** Bytes of a ticket's MAC (HMAC-SHA256). */
export const TICKET_MAC_BYTES = 32;

/** The fields a ticket's MAC covers. */
export interface TicketFields {
  /** The account the ticket logs in as. */
  readonly username: string;
  /** When it stops being accepted, whole seconds since the epoch. */
  readonly expiresAtSeconds: number;
  /** Random id, base64url of {@linkcode TICKET_ID_BYTES} bytes. */
  readonly id: string;
}

/** A well-formed ticket: its fields, its MAC, and the text the MAC covers. */
export interface ParsedTicket extends TicketFields {
  /** Base64url of the {@linkcode TICKET_MAC_BYTES}-byte MAC. */
  readonly mac: string;
  /** Everything before the last `.`: the signed part, as sent. */
  readonly signed: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const DIGITS = /^[0-9]{1,12}$/;
const ID_CHARS = Math.ceil(TICKET_ID_BYTES * 4 / 3);
const MAC_CHARS = Math.ceil(TICKET_MAC_BYTES * 4 / 3);
const USER_DECODER = new TextDecoder("utf-8", { fatal: true });

/**
 * The signed part of a ticket, the text its MAC is computed over.
 *
 * @param fields Account, expiry and id.
 * @returns `t1.<user>.<expires>.<id>`.
 * @example
 * ```ts
 * signedTicketPart({ username: "agent", expiresAtSeconds: 1700000000, id: "AAAAAAAAAAAAAAAAAAAAAA" });
 * // "t1.YWdlbnQ.1700000000.AAAAAAAAAAAAAAAAAAAAAA"
 * ```
 */
export function signedTicketPart(fields: TicketFields): string {
  const user = new TextEncoder().encode(fields.username).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
  return `${TICKET_VERSION}.${user}.${fields.expiresAtSeconds}.${fields.id}`;
}

/**
 * Splits a ticket into its fields. Never throws; anything malformed, too long
 * or of another version is refused without further work.
 *
 * @param text The ticket as received.
 * @returns The parsed ticket, or null.
 * @example
 * ```ts
 * parseTicket("t1.YWdlbnQ.1700000000.<id>.<mac>")?.username; // "agent"
 * ```
 */
export function parseTicket(text: string): ParsedTicket | null {
  if (text.length > MAX_TICKET_CHARS) return null;
  const parts = text.split(".");
  if (parts.length !== 5) return null;
  const [version, user, expires, id, mac] = parts as [string, string, string, string, string];
  if (version !== TICKET_VERSION || !DIGITS.test(expires)) return null;
  if (id.length !== ID_CHARS || mac.length !== MAC_CHARS) return null;
  if (!B64URL.test(user) || !B64URL.test(id) || !B64URL.test(mac)) return null;
  let username: string;
  try {
    username = USER_DECODER.decode(Uint8Array.fromBase64(user, { alphabet: "base64url" }));
  } catch {
    return null;
  }
  if (username.length === 0) return null;
  return {
    username,
    expiresAtSeconds: Number(expires),
    id,
    mac,
    signed: text.slice(0, text.lastIndexOf(".")),
  };
}

/**
 * The ticket carried by the answer to `TICKET`.
 *
 * @param message The `ACK OK` text, e.g. `Ticket t1.…`.
 * @returns The ticket, or null when the text is not a ticket answer.
 * @example
 * ```ts
 * ticketFromAck("Ticket t1.YWdlbnQ.1700000000.<id>.<mac>"); // "t1.…"
 * ```
 */
export function ticketFromAck(message: string): string | null {
  const prefix = OK.ticket + " ";
  if (!message.startsWith(prefix)) return null;
  const ticket = message.slice(prefix.length);
  return parseTicket(ticket) ? ticket : null;
}

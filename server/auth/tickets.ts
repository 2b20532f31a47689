/**
 * Resumption tickets: after a verified password LOGIN the server hands the
 * agent a ticket (`TICKET`, docs/PROTOCOL.md), and the agent's next
 * connection logs in with `LOGIN @ticket <ticket>`, which costs one HMAC
 * instead of one scrypt. A fleet sharing a password account thus gets back in
 * within seconds of a server restart, while a first login still pays the full
 * hash. The MAC covers the account, the expiry, a random id and a stamp of
 * the account's current password hash, keyed with a secret kept in the data
 * directory (mode 0600): changing the password or removing the account
 * revokes every ticket of it, and replacing the key file revokes them all.
 * The threat analysis is in docs/SECURITY.md.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import {
  parseTicket,
  signedTicketPart,
  TICKET_ID_BYTES,
  TICKET_MAC_BYTES,
} from "../../protocol/mod.ts";
import type { Role } from "../store/store.ts";
import { credentialStamp } from "./verify_login.ts";

/** Name of the ticket key file in the data directory (mode 0600). */
export const TICKET_KEY_FILE = "ticket-key";
/** Bytes of the ticket key. */
export const TICKET_KEY_BYTES = 32;
/**
 * Seconds a ticket is accepted after it was issued. A ticket is never
 * renewed by logging in with it: once a day each agent logs in with its
 * password again, and a stolen ticket is worth at most this long.
 */
export const TICKET_LIFETIME_SECONDS = 24 * 60 * 60;

/** What a ticket check needs of an account. */
export interface TicketAccount {
  readonly role: Role;
  readonly passwordHash: string;
}

/** A ticket that passed every check. */
export interface TicketLogin {
  readonly username: string;
  readonly role: Role;
  /** Stamp of the password hash the ticket is bound to (`credentialStamp()`). */
  readonly credential: string;
}

/**
 * Reads the ticket key from the data directory, creating it (32 random bytes,
 * base64url, mode 0600) on first start. A key file that is unreadable or
 * malformed stops the server: silently making a new one would hide that it
 * was tampered with.
 *
 * @param dataDir The server's data directory.
 * @returns The key.
 * @throws {Error} When the file cannot be read or created, or holds no valid key.
 * @example
 * ```ts
 * const key = await loadTicketKey("/var/lib/nms");
 * ```
 */
export async function loadTicketKey(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, TICKET_KEY_FILE);
  try {
    // With PostgreSQL nothing else may have made the local data directory yet.
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const key = crypto.getRandomValues(new Uint8Array(TICKET_KEY_BYTES));
    // createNew: two servers starting on one directory keep one key.
    await Deno.writeTextFile(file, key.toBase64({ alphabet: "base64url" }) + "\n", {
      mode: 0o600,
      createNew: true,
    });
    return key;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw new Error(`Cannot create the ticket key ${file}: ${(error as Error).message}`);
    }
  }
  let key: Uint8Array;
  try {
    key = Uint8Array.fromBase64((await Deno.readTextFile(file)).trim(), { alphabet: "base64url" });
  } catch (error) {
    throw new Error(`Cannot read the ticket key ${file}: ${(error as Error).message}`);
  }
  if (key.length !== TICKET_KEY_BYTES) {
    throw new Error(`Cannot use the ticket key ${file}: not ${TICKET_KEY_BYTES} bytes`);
  }
  // Only the server's user reads it, whatever an operator's copy left behind.
  if (Deno.build.os !== "windows") await Deno.chmod(file, 0o600);
  return key;
}

/**
 * Issues and checks resumption tickets with one key.
 *
 * @example
 * ```ts
 * const tickets = new Tickets(key);
 * const ticket = tickets.issue("fleet", stamp, Date.now());
 * const login = await tickets.check(ticket, Date.now(), (name) => store.findUser(name));
 * ```
 */
export class Tickets {
  readonly #key: Uint8Array;
  readonly #lifetimeSeconds: number;

  /**
   * @param key {@linkcode TICKET_KEY_BYTES} secret bytes.
   * @param lifetimeSeconds How long a ticket is accepted.
   */
  constructor(key: Uint8Array, lifetimeSeconds: number = TICKET_LIFETIME_SECONDS) {
    if (key.length !== TICKET_KEY_BYTES) {
      throw new RangeError(`Cannot use a ticket key of ${key.length} bytes`);
    }
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1) {
      throw new RangeError(`Cannot issue tickets living ${lifetimeSeconds} seconds`);
    }
    this.#key = key;
    this.#lifetimeSeconds = lifetimeSeconds;
  }

  /**
   * A new ticket for an account whose password was just verified.
   *
   * @param username The account.
   * @param credential Stamp of its password hash at that login.
   * @param nowMs Server time, ms since the epoch.
   * @returns The ticket text; a secret, never to be logged.
   */
  issue(username: string, credential: string, nowMs: number): string {
    const id = crypto.getRandomValues(new Uint8Array(TICKET_ID_BYTES))
      .toBase64({ alphabet: "base64url", omitPadding: true });
    const signed = signedTicketPart({
      username,
      expiresAtSeconds: Math.floor(nowMs / 1000) + this.#lifetimeSeconds,
      id,
    });
    const mac = this.#mac(signed, credential).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    });
    return `${signed}.${mac}`;
  }

  /**
   * Checks a ticket: its format, its expiry, the account it names, and its
   * MAC over those and the account's current password hash, compared in
   * constant time. One indexed read and one HMAC; never throws for bad input.
   *
   * @param text The ticket as received.
   * @param nowMs Server time, ms since the epoch.
   * @param findAccount Reads the account, undefined when there is none.
   * @returns The login, or null when the ticket is refused.
   */
  async check(
    text: string,
    nowMs: number,
    findAccount: (username: string) => Promise<TicketAccount | undefined>,
  ): Promise<TicketLogin | null> {
    const ticket = parseTicket(text);
    if (ticket === null || ticket.expiresAtSeconds * 1000 <= nowMs) return null;
    // A lifetime longer than ours was never issued with this key's settings.
    if (ticket.expiresAtSeconds * 1000 > nowMs + this.#lifetimeSeconds * 1000 + 1000) return null;
    const account = await findAccount(ticket.username);
    if (!account) return null;
    const credential = credentialStamp(account.passwordHash);
    const expected = this.#mac(ticket.signed, credential);
    let actual: Uint8Array;
    try {
      actual = Uint8Array.fromBase64(ticket.mac, { alphabet: "base64url" });
    } catch {
      return null;
    }
    if (actual.length !== TICKET_MAC_BYTES || !timingSafeEqual(actual, expected)) return null;
    return { username: ticket.username, role: account.role, credential };
  }

  #mac(signed: string, credential: string): Uint8Array {
    return new Uint8Array(
      createHmac("sha256", this.#key).update(signed).update("\0").update(credential).digest(),
    );
  }
}

/**
 * One login attempt, start to finish: the lockout reservation (before any
 * hashing, so refusing a locked user or address costs one indexed read), the
 * password or token check, the failure count, the security events that make
 * guessing visible, the transparent re-hash of a weak password hash, and the
 * work after a success (the reservation taken back, the token's last use).
 * Run by the pool workers for the agent protocol; usable by any other login
 * path so all share one lockout.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { TOKEN_LOGIN_USER } from "../../protocol/mod.ts";
import type { LoginFailurePolicy } from "../store/security_store.ts";
import type { Role, Store } from "../store/store.ts";
import { isValidUserName } from "../store/user_name.ts";
import { Lockout } from "./lockout.ts";
import { type LoginEvent, userNameInEvent } from "./login_events.ts";
import { hashPassword, needsRehash, verifyNobody, verifyPassword } from "./password.ts";
import { noteTokenUse, verifyToken } from "./tokens.ts";
import { type LoginChannel, loginFields, SECURITY_EVENT_KINDS } from "../security_event.ts";

/** A login attempt as the server received it. */
export interface LoginAttempt {
  /** Claimed user, or `@token` for the token variant. */
  readonly username: string;
  /** Password, or the token for the token variant. */
  readonly password: string;
  /** Client address as `ip:port`, for the security events. */
  readonly address: string;
  /** Client IP without port: the lockout's address key. */
  readonly ip: string;
  /** Server time, ms since the epoch. */
  readonly at: number;
  /** Lockout policy, or null when the lockout is off. */
  readonly lockout: LoginFailurePolicy | null;
  /**
   * Added to the security events' text, e.g. ` (web console)`.
   * @default {""}
   */
  readonly via?: string;
  /**
   * The door the attempt came through, in the security events' fields.
   * @default {"agent"}
   */
  readonly channel?: LoginChannel;
}

/** What a successful token login tells the connection. */
export interface VerifiedToken {
  readonly id: string;
  readonly name: string;
  readonly boundHostname: string | null;
}

/** The answer to a login attempt. */
export interface LoginVerdict {
  readonly ok: boolean;
  readonly userId: number | null;
  readonly role: Role | null;
  /** Refused without checking the password: the user or address is locked out. */
  readonly locked: boolean;
  /** The token logged in with, or null. */
  readonly token: VerifiedToken | null;
  /** Whether a password was checked with scrypt (the user's hash or the unknown-user decoy). */
  readonly checked: boolean;
  /**
   * Version of the user's credential at login ({@linkcode credentialStamp}),
   * so that a password change closes the connection; null for a token.
   */
  readonly credential: string | null;
}

/** A verdict, the events to store, and the follow-up work. */
export interface LoginResult {
  readonly verdict: LoginVerdict;
  /** Security events of the attempt, for the main thread's `LoginEventGate` (login_events.ts). */
  readonly events: readonly LoginEvent[];
  /** Work after the answer (re-hash, token use); never rejects. */
  finish(): Promise<void>;
}

const NO_WORK = () => Promise.resolve();

/**
 * Verifies one login attempt against the store.
 *
 * @param store A store that may also write (lockout counters, re-hash).
 * @param attempt What the client sent, from where, and the lockout policy.
 * @returns The verdict, security events and follow-up work.
 * @example
 * ```ts
 * const result = await verifyLogin(store, {
 *   username: "admin", password: "pw", address: "10.0.0.9:5000", ip: "10.0.0.9",
 *   at: Date.now(), lockout: lockoutPolicy(),
 * });
 * if (result.verdict.ok) console.log(result.verdict.role);
 * await result.finish();
 * ```
 */
export async function verifyLogin(store: Store, attempt: LoginAttempt): Promise<LoginResult> {
  const isToken = attempt.username === TOKEN_LOGIN_USER;
  // A name no account can have is refused without hashing: the rule is public,
  // so this tells nothing about which users exist. It counts against the address only.
  const validName = isToken || isValidUserName(attempt.username);
  const who = isToken || !validName ? null : attempt.username;
  const name = userNameInEvent(attempt.username);
  const via = attempt.via ?? "";
  const fields = loginFields(attempt.username, attempt.address, attempt.channel ?? "agent");
  const lockout = attempt.lockout ? new Lockout(store.security, attempt.lockout) : null;
  const refused: LoginVerdict = {
    ok: false,
    userId: null,
    role: null,
    locked: false,
    token: null,
    checked: false,
    credential: null,
  };
  // A password attempt is counted before any hashing, so parallel guesses
  // cannot race the lockout. A token is checked by one cheap hash and cannot
  // be guessed: its attempt is only checked against a lock, and counted
  // when it fails, so a fleet logging in writes nothing for it.
  const reservation = lockout && !isToken
    ? await lockout.reserve(who, attempt.ip, attempt.at)
    : null;
  const tokenLocked = lockout !== null && isToken &&
    await lockout.retryAfterSeconds(null, attempt.ip, attempt.at) > 0;
  if ((reservation && !reservation.ok) || tokenLocked) {
    const events: LoginEvent[] = [{
      kind: SECURITY_EVENT_KINDS.loginRefused,
      fields,
      severity: 4,
      message: `Refused login for user ${name} from ${attempt.address}${via}: locked out`,
    }];
    return { verdict: { ...refused, locked: true }, events, finish: NO_WORK };
  }

  let verdict = refused;
  let finish = NO_WORK;
  const events: LoginEvent[] = [];
  if (isToken) {
    const token = await verifyToken(store.security, attempt.password);
    if (token) {
      const summary = { id: token.id, name: token.name, boundHostname: token.boundHostname };
      verdict = { ...refused, ok: true, role: "agent", token: summary };
      events.push({
        kind: SECURITY_EVENT_KINDS.loginOk,
        fields,
        severity: 5,
        message:
          `Successful login with token ${token.name} (id ${token.id}) from ${attempt.address}${via}`,
      });
      finish = () => noteTokenUse(store.security, token.id, attempt.at);
    }
  } else if (validName) {
    const user = await store.findUser(attempt.username);
    const ok = user
      ? await verifyPassword(attempt.password, user.passwordHash)
      : await verifyNobody(attempt.password);
    verdict = { ...refused, checked: true };
    if (ok && user) {
      // Transparent upgrade: a hash weaker than today's default is replaced,
      // unless the password was changed meanwhile. Before the answer, so that
      // the connection keeps the new hash's stamp and is not closed as if the
      // password had changed.
      let hash = user.passwordHash;
      if (needsRehash(hash)) {
        const fresh = await hashPassword(attempt.password);
        if (await store.security.replacePasswordHash(user.username, hash, fresh)) hash = fresh;
      }
      verdict = {
        ...verdict,
        ok: true,
        userId: user.id,
        role: user.role,
        credential: credentialStamp(hash),
      };
      events.push({
        kind: SECURITY_EVENT_KINDS.loginOk,
        fields,
        severity: 5,
        message: `Successful login for user ${name} from ${attempt.address}${via}`,
      });
      finish = async () => {
        await reservation?.succeed();
      };
    }
  }
  if (!verdict.ok) {
    events.push({
      kind: SECURITY_EVENT_KINDS.loginFailed,
      fields,
      severity: 4,
      message: `Failed login for user ${name} from ${attempt.address}${via}`,
    });
    const counted = lockout && isToken
      ? await lockout.reserve(null, attempt.ip, attempt.at)
      : reservation;
    if (lockout && counted?.ok) {
      for (const key of await counted.fail()) {
        events.push({
          kind: SECURITY_EVENT_KINDS.loginLocked,
          fields,
          severity: 4,
          message: lockMessage(key, lockout.policy, attempt.at),
        });
      }
    }
  }
  return {
    verdict,
    events,
    finish: () => finish().catch(() => {}),
  };
}

/**
 * A short version of a user's credential: it changes with every password
 * change (a new salt each time) and tells nothing about the password.
 *
 * @param passwordHash The user's stored hash.
 * @returns 16 hex digits of its SHA-256.
 * @example
 * ```ts
 * credentialStamp(user.passwordHash) !== connection.credential; // the password changed
 * ```
 */
export function credentialStamp(passwordHash: string): string {
  return createHash("sha256").update(passwordHash).digest("hex").slice(0, 16);
}

/**
 * The security event's text when a failure locks a user or address.
 *
 * @param key `user:<name>` or `addr:<ip>`.
 * @param policy The lockout policy.
 * @param at When, ms since the epoch.
 * @returns E.g. `Logins locked for user admin after 5 failures until 2026-…`.
 * @example
 * ```ts
 * lockMessage("addr:10.0.0.9", policy, Date.now());
 * ```
 */
export function lockMessage(key: string, policy: LoginFailurePolicy, at: number): string {
  const what = key.startsWith("user:")
    ? `user ${userNameInEvent(key.slice(5))}`
    : `address ${key.slice(5)}`;
  return `Logins locked for ${what} after ${policy.maxFailures} failures until ${
    new Date(at + policy.lockMs).toISOString()
  }`;
}

/**
 * One login attempt, start to finish: the lockout check (before any hashing,
 * so refusing a locked user or address costs one indexed read), the password
 * or token check, the failure count, the security events that make guessing
 * visible, and the work after a success (transparent re-hash of a weak
 * password hash, the token's last use). Run by the pool workers for the
 * agent protocol; usable by any other login path so all share one lockout.
 *
 * @module
 */

import { TOKEN_LOGIN_USER } from "../../protocol/mod.ts";
import type { LoginFailurePolicy } from "../store/security_store.ts";
import type { Role, Store } from "../store/store.ts";
import { Lockout } from "./lockout.ts";
import { hashPassword, needsRehash, verifyNobody, verifyPassword } from "./password.ts";
import { verifyToken } from "./tokens.ts";
import {
  type LoginChannel,
  loginFields,
  SECURITY_EVENT_KINDS,
  type SecurityEventFields,
  type SecurityEventKind,
} from "../security_event.ts";

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
}

/** An event NMS stores about the attempt (program `nms-server`, facility authpriv). */
export interface LoginEvent {
  /** Syslog severity: 5 notice for a success, 4 warning for a failure or lock. */
  readonly severity: number;
  readonly message: string;
  /** What happened, for the rules (server/security_event.ts). */
  readonly kind?: SecurityEventKind;
  /** User, address and door, for the rules. */
  readonly fields?: SecurityEventFields;
}

/** A verdict, the events to store, and the follow-up work. */
export interface LoginResult {
  readonly verdict: LoginVerdict;
  readonly events: readonly LoginEvent[];
  /** Work after the answer (re-hash, token use); never rejects. */
  finish(): Promise<void>;
}

const NO_WORK = () => Promise.resolve();

/** Least time between two recorded refusals (locked out) of one user or address, in ms. */
export const REFUSAL_EVENT_INTERVAL_MS = 60_000;
/** Users and addresses whose last recorded refusal is remembered; beyond it all are forgotten. */
const MAX_REFUSALS_TRACKED = 10_000;
const lastRefusal = new Map<string, number>();

/** Whether a refused (locked-out) attempt should be stored as an event now. */
function refusalWorthRecording(username: string | null, ip: string, at: number): boolean {
  const key = `${username ?? ""}\0${ip}`;
  const last = lastRefusal.get(key);
  if (last !== undefined && at - last < REFUSAL_EVENT_INTERVAL_MS) return false;
  if (lastRefusal.size >= MAX_REFUSALS_TRACKED) lastRefusal.clear();
  lastRefusal.set(key, at);
  return true;
}

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
  const who = isToken ? null : attempt.username;
  const via = attempt.via ?? "";
  const lockout = attempt.lockout ? new Lockout(store.security, attempt.lockout) : null;
  const refused: LoginVerdict = { ok: false, userId: null, role: null, locked: false, token: null };
  if (lockout && await lockout.retryAfterSeconds(who, attempt.ip, attempt.at) > 0) {
    // No hashing. Refused guesses are recorded, but at most one per user or
    // address a minute: a cheap refusal must not become a flood of stored rows.
    const events = refusalWorthRecording(who, attempt.ip, attempt.at)
      ? [{
        severity: 4,
        message:
          `Refused login for user ${attempt.username} from ${attempt.address}${via}: locked out`,
      }]
      : [];
    return { verdict: { ...refused, locked: true }, events, finish: NO_WORK };
  }

  let verdict = refused;
  let finish = NO_WORK;
  const events: LoginEvent[] = [];
  if (isToken) {
    const token = await verifyToken(store.security, attempt.password);
    if (token) {
      const summary = { id: token.id, name: token.name, boundHostname: token.boundHostname };
      verdict = { ok: true, userId: null, role: "agent", locked: false, token: summary };
      events.push({
        severity: 5,
        message:
          `Successful login with token ${token.name} (id ${token.id}) from ${attempt.address}${via}`,
      });
      finish = () => store.security.markTokenUsed(token.id, attempt.at);
    }
  } else {
    const user = await store.findUser(attempt.username);
    const ok = user
      ? await verifyPassword(attempt.password, user.passwordHash)
      : await verifyNobody(attempt.password);
    if (ok && user) {
      verdict = { ok: true, userId: user.id, role: user.role, locked: false, token: null };
      events.push({
        severity: 5,
        message: `Successful login for user ${attempt.username} from ${attempt.address}${via}`,
      });
      finish = async () => {
        await lockout?.succeed(user.username);
        // Transparent upgrade: a hash weaker than today's default is replaced,
        // unless the password was changed meanwhile.
        if (needsRehash(user.passwordHash)) {
          const fresh = await hashPassword(attempt.password);
          await store.security.replacePasswordHash(user.username, user.passwordHash, fresh);
        }
      };
    }
  }
  if (!verdict.ok) {
    events.push({
      severity: 4,
      message: `Failed login for user ${attempt.username} from ${attempt.address}${via}`,
      kind: SECURITY_EVENT_KINDS.loginFailed,
      fields: loginFields(attempt.username, attempt.address, attempt.channel ?? "agent"),
    });
    if (lockout) {
      for (const key of await lockout.fail(who, attempt.ip, attempt.at)) {
        events.push({ severity: 4, message: lockMessage(key, lockout.policy, attempt.at) });
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
  const what = key.startsWith("user:") ? `user ${key.slice(5)}` : `address ${key.slice(5)}`;
  return `Logins locked for ${what} after ${policy.maxFailures} failures until ${
    new Date(at + policy.lockMs).toISOString()
  }`;
}

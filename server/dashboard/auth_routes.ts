/**
 * Console login, logout and "who am I". Passwords are checked with scrypt
 * (off the main thread's CPU: node:crypto runs it in the thread pool) against
 * the store; unknown users cost the same time as known ones; every attempt is
 * recorded as an NMS security event; an address that keeps failing is
 * throttled. Accounts with the `agent` role cannot log in here.
 *
 * @module
 */

import { verifyNobody, verifyPassword } from "../auth/password.ts";
import { loginFields, SECURITY_EVENT_KINDS } from "../security_event.ts";
import { lockMessage } from "../auth/verify_login.ts";
import type { UserRecord } from "../store/store.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem, readJsonObject, sessionCookie } from "./http.ts";

/** Longest accepted user name or password in a login request, in characters. */
export const MAX_CREDENTIAL_CHARS = 1024;

/** Message for any wrong user name or password: it never says which was wrong. */
export const INVALID_CREDENTIALS = "Invalid user name or password";

/** Message for an `agent` account that tries the console. */
export const AGENT_CANNOT_LOG_IN = "Agent accounts cannot sign in to the console";

/**
 * Verifies a user name and password.
 *
 * @param ctx The console context.
 * @param username Claimed user name.
 * @param password Claimed password.
 * @returns The user when the password matches, else undefined.
 * @example
 * ```ts
 * const user = await checkPassword(ctx, "admin", "secret");
 * ```
 */
export async function checkPassword(
  ctx: DashboardContext,
  username: string,
  password: string,
): Promise<UserRecord | undefined> {
  const user = await ctx.store.findUser(username);
  const ok = user
    ? await verifyPassword(password, user.passwordHash)
    : await verifyNobody(password);
  return ok ? user : undefined;
}

/**
 * `POST /api/login` with `{"username", "password"}`: sets the session cookie.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns 200 with `{username, role}`; 400, 401, 403 or 429 otherwise.
 * @example
 * ```ts
 * await login(req, ctx);
 * ```
 */
export async function login(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const address = req.remoteAddress;
  const wait = ctx.throttle.retryAfterSeconds(address);
  if (wait > 0) {
    ctx.metrics.consoleLogins.throttled++;
    return problem(429, "Too many failed logins from this address; try again later", {
      "retry-after": String(wait),
    });
  }
  const body = await readJsonObject(req.request);
  if (!body.ok) return problem(400, body.reason);
  const { username, password } = body.value;
  if (
    typeof username !== "string" || typeof password !== "string" || username === "" ||
    username.length > MAX_CREDENTIAL_CHARS || password.length > MAX_CREDENTIAL_CHARS
  ) {
    return problem(400, 'Expected {"username": string, "password": string}');
  }
  // The lockout shared with the agent protocol (issue 5): checked before any hashing.
  const lockedFor = await ctx.lockout?.retryAfterSeconds(username, address, ctx.now()) ?? 0;
  if (lockedFor > 0) {
    ctx.metrics.consoleLogins.throttled++;
    return problem(429, "Too many failed logins; try again later", {
      "retry-after": String(lockedFor),
    });
  }
  const user = await checkPassword(ctx, username, password);
  // The name is the client's text: the security event shows it JSON-quoted.
  const who = JSON.stringify(username.slice(0, 64));
  if (!user) {
    ctx.throttle.fail(address);
    for (const key of await ctx.lockout?.fail(username, address, ctx.now()) ?? []) {
      ctx.recordSecurityEvent({
        severity: 4,
        message: lockMessage(key, ctx.lockout!.policy, ctx.now()) + " (web console)",
      });
    }
    ctx.metrics.consoleLogins.failed++;
    ctx.recordSecurityEvent({
      severity: 4,
      message: `Failed login for user ${who} from ${address} (web console)`,
      kind: SECURITY_EVENT_KINDS.loginFailed,
      fields: loginFields(username, address, "console"),
    });
    return problem(401, INVALID_CREDENTIALS);
  }
  ctx.throttle.succeed(address);
  await ctx.lockout?.succeed(user.username);
  if (user.role === "agent") {
    ctx.metrics.consoleLogins.failed++;
    ctx.recordSecurityEvent({
      severity: 4,
      message: `Refused console login for agent account ${who} from ${address}`,
    });
    return problem(403, AGENT_CANNOT_LOG_IN);
  }
  const { token } = await ctx.sessions.create(user);
  ctx.metrics.consoleLogins.ok++;
  ctx.recordSecurityEvent({
    severity: 5,
    message: `Successful login for user ${who} from ${address} (web console)`,
  });
  return json({ username: user.username, role: user.role }, {
    headers: {
      "set-cookie": sessionCookie(ctx.cookieName, token, {
        maxAgeSeconds: ctx.sessions.maxAgeSeconds,
        secure: ctx.secure,
      }),
    },
  });
}

/**
 * `POST /api/logout`: ends the session and deletes the cookie.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns 200 `{}`.
 * @example
 * ```ts
 * await logout(req, ctx);
 * ```
 */
export function logout(req: RouteRequest, ctx: DashboardContext): Response {
  if (req.auth?.session) ctx.sessions.destroy(req.auth.session.id);
  return json({}, {
    headers: {
      "set-cookie": sessionCookie(ctx.cookieName, "", { maxAgeSeconds: 0, secure: ctx.secure }),
    },
  });
}

/**
 * `GET /api/me`: the signed-in user.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns `{username, role, heartbeatSeconds}`.
 * @example
 * ```ts
 * me(req, ctx);
 * ```
 */
export function me(req: RouteRequest, ctx: DashboardContext): Response {
  const user = req.auth!.user;
  return json({
    username: user.username,
    role: user.role,
    heartbeatSeconds: ctx.heartbeatSeconds,
  });
}

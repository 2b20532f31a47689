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
import { loginFields, MAX_EVENT_USER_CHARS, SECURITY_EVENT_KINDS } from "../security_event.ts";
import { lockMessage } from "../auth/verify_login.ts";
import type { LoginEvent } from "../auth/login_events.ts";
import type { UserRecord } from "../store/store.ts";
import { isValidUserName } from "../store/user_name.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem, readJsonObject, sessionCookie } from "./http.ts";

/** Longest accepted user name or password in a login request, in characters. */
export const MAX_CREDENTIAL_CHARS = 1024;

/** Message for any wrong user name or password: it never says which was wrong. */
export const INVALID_CREDENTIALS = "Invalid user name or password";

/** Message for an `agent` account that tries the console. */
export const AGENT_CANNOT_LOG_IN = "Agent accounts cannot sign in to the console";

/** Message when every console session slot is taken by other users. */
export const TOO_MANY_SESSIONS = "Too many console sessions; try again later";

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
  ctx.metrics.passwordChecks.console++;
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
  const throttled = ctx.throttle.retryAfterSeconds(address);
  if (throttled > 0) return tooManyFailures(ctx, throttled, "from this address");
  const body = await readJsonObject(req.request);
  if (!body.ok) return problem(400, body.reason);
  const { username, password } = body.value;
  if (
    typeof username !== "string" || typeof password !== "string" || username === "" ||
    username.length > MAX_CREDENTIAL_CHARS || password.length > MAX_CREDENTIAL_CHARS
  ) {
    return problem(400, 'Expected {"username": string, "password": string}');
  }
  // The name is the client's text: the security event shows a short, quoted prefix.
  const who = JSON.stringify(username.slice(0, MAX_EVENT_USER_CHARS));
  const fields = loginFields(username, address, "console");
  // Counted before any hashing (the address here, the lockout shared with the
  // agent protocol below), so parallel guesses cannot race either.
  const wait = ctx.throttle.reserve(address);
  if (wait > 0) return tooManyFailures(ctx, wait, "from this address");
  // A name no account can have is refused without hashing; it counts against the address only.
  const validName = isValidUserName(username);
  const attempt = await ctx.lockout?.reserve(validName ? username : null, address, ctx.now()) ??
    null;
  if (attempt && !attempt.ok) {
    ctx.throttle.release(address);
    ctx.recordLoginEvents(address, [{
      kind: SECURITY_EVENT_KINDS.loginRefused,
      fields,
      severity: 4,
      message: `Refused login for user ${who} from ${address} (web console): locked out`,
    }]);
    return tooManyFailures(ctx, attempt.retryAfterSeconds);
  }
  const user = validName ? await checkPassword(ctx, username, password) : undefined;
  if (!user) {
    ctx.metrics.consoleLogins.failed++;
    const events: LoginEvent[] = [{
      kind: SECURITY_EVENT_KINDS.loginFailed,
      fields,
      severity: 4,
      message: `Failed login for user ${who} from ${address} (web console)`,
    }];
    for (const key of await attempt?.fail() ?? []) {
      events.push({
        kind: SECURITY_EVENT_KINDS.loginLocked,
        fields,
        severity: 4,
        message: lockMessage(key, ctx.lockout!.policy, ctx.now()) + " (web console)",
      });
    }
    ctx.recordLoginEvents(address, events);
    return problem(401, INVALID_CREDENTIALS);
  }
  ctx.throttle.succeed(address);
  await attempt?.succeed();
  if (user.role === "agent") {
    ctx.metrics.consoleLogins.failed++;
    ctx.recordLoginEvents(address, [{
      kind: SECURITY_EVENT_KINDS.loginFailed,
      fields,
      severity: 4,
      message: `Refused console login for agent account ${who} from ${address}`,
    }]);
    return problem(403, AGENT_CANNOT_LOG_IN);
  }
  const created = await ctx.sessions.create(user);
  if (!created) return problem(503, TOO_MANY_SESSIONS);
  ctx.metrics.consoleLogins.ok++;
  ctx.recordLoginEvents(address, [{
    kind: SECURITY_EVENT_KINDS.loginOk,
    fields,
    severity: 5,
    message: `Successful login for user ${who} from ${address} (web console)`,
  }]);
  return json({ username: user.username, role: user.role }, {
    headers: {
      "set-cookie": sessionCookie(ctx.cookieName, created.token, {
        maxAgeSeconds: ctx.sessions.maxAgeSeconds,
        secure: ctx.secure,
      }),
    },
  });
}

/** HTTP 429 for a throttled or locked-out login. */
function tooManyFailures(ctx: DashboardContext, seconds: number, scope = ""): Response {
  ctx.metrics.consoleLogins.throttled++;
  return problem(429, `Too many failed logins${scope ? ` ${scope}` : ""}; try again later`, {
    "retry-after": String(seconds),
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

/**
 * User management for admins: list, add, change role, reset password, remove.
 * Password hashes never leave the server. Changing a user's role or password,
 * or removing it, ends that user's console sessions. The last admin cannot be
 * removed or demoted, and an admin cannot remove their own account.
 *
 * @module
 */

import { hashPassword } from "../auth/password.ts";
import { type Role, ROLES, StoreError, type UserRecord } from "../store/store.ts";
// User names follow the store's one rule (server/store/user_name.ts).
import { isValidUserName, USER_NAME_RULE } from "../store/user_name.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { json, problem, readJsonObject, sessionCookie } from "./http.ts";

/** Shortest password the console accepts for a new or reset password, in characters. */
export const MIN_PASSWORD_CHARS = 8;
/** Longest password accepted, in characters (bounds the hashing work per request). */
export const MAX_PASSWORD_CHARS = 1024;

/** A user as the API shows it. */
export interface UserView {
  readonly username: string;
  readonly role: Role;
  readonly createdAt: number;
}

function view(user: UserRecord): UserView {
  return { username: user.username, role: user.role, createdAt: user.createdAt };
}

function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== "string") return "password must be a string";
  if (password.length < MIN_PASSWORD_CHARS) {
    return `password must have at least ${MIN_PASSWORD_CHARS} characters`;
  }
  if (password.length > MAX_PASSWORD_CHARS) {
    return `password must have at most ${MAX_PASSWORD_CHARS} characters`;
  }
  return undefined;
}

function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

async function adminCount(ctx: DashboardContext): Promise<number> {
  return (await ctx.store.listUsers()).filter((u) => u.role === "admin").length;
}

/**
 * `GET /api/users`.
 *
 * @param _req The request.
 * @param ctx The console context.
 * @returns `{users: [{username, role, createdAt}]}`.
 * @example
 * ```ts
 * await listUsers(req, ctx);
 * ```
 */
export async function listUsers(_req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  return json({ users: (await ctx.store.listUsers()).map(view) });
}

/**
 * `POST /api/users` with `{username, password, role}`.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns 201 with the user; 400 or 409.
 * @example
 * ```ts
 * await addUser(req, ctx);
 * ```
 */
export async function addUser(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const body = await readJsonObject(req.request);
  if (!body.ok) return problem(400, body.reason);
  const { username, password, role } = body.value;
  if (typeof username !== "string" || !isValidUserName(username)) {
    return problem(400, `username must be ${USER_NAME_RULE}`);
  }
  if (!isRole(role)) return problem(400, `role must be one of ${ROLES.join(", ")}`);
  const bad = passwordProblem(password);
  if (bad) return problem(400, bad);
  try {
    const user = await ctx.store.createUser(username, await hashPassword(password as string), role);
    await auditConsole(ctx, req.auth!.user.username, "user.add", username, `role=${role}`);
    ctx.recordSecurityEvent({
      severity: 5,
      message: `User ${username} (${role}) created by ${req.auth!.user.username} (web console)`,
    });
    return json(view(user), { status: 201 });
  } catch (error) {
    if (error instanceof StoreError && error.code === "conflict") {
      return problem(409, `A user named ${username} already exists`);
    }
    if (error instanceof StoreError && error.code === "invalid") {
      return problem(400, `username must be ${USER_NAME_RULE}`);
    }
    throw error;
  }
}

/**
 * `PATCH /api/users/:name` with `{role?, password?}`.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns 200 with the user; 400, 404 or 409.
 * @example
 * ```ts
 * await updateUser(req, ctx);
 * ```
 */
export async function updateUser(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const name = req.params.name!;
  const body = await readJsonObject(req.request);
  if (!body.ok) return problem(400, body.reason);
  const { role, password } = body.value;
  if (role === undefined && password === undefined) {
    return problem(400, "Expected role or password");
  }
  if (role !== undefined && !isRole(role)) {
    return problem(400, `role must be one of ${ROLES.join(", ")}`);
  }
  if (password !== undefined) {
    const bad = passwordProblem(password);
    if (bad) return problem(400, bad);
  }
  const user = await ctx.store.findUser(name);
  if (!user) return problem(404, `No user named ${name}`);
  if (role !== undefined && role !== user.role && user.role === "admin") {
    if (await adminCount(ctx) <= 1) return problem(409, "Cannot demote the last admin");
  }
  const actor = req.auth!.user.username;
  if (password !== undefined) {
    await ctx.store.setPasswordHash(name, await hashPassword(password as string));
    await auditConsole(ctx, actor, "user.passwd", name, null);
    ctx.recordSecurityEvent({
      severity: 5,
      message: `Password of user ${name} reset by ${actor} (web console)`,
    });
  }
  if (role !== undefined && role !== user.role) {
    await ctx.store.setUserRole(name, role);
    await auditConsole(ctx, actor, "user.role", name, `${user.role}->${role}`);
    ctx.recordSecurityEvent({
      severity: 5,
      message:
        `Role of user ${name} changed from ${user.role} to ${role} by ${actor} (web console)`,
    });
  }
  // The user's sessions end; an admin changing their own password stays signed in.
  ctx.sessions.destroyUser(name);
  const fresh = (await ctx.store.findUser(name)) ?? user;
  const renewed = req.auth!.session && name === actor && fresh.role !== "agent"
    ? await ctx.sessions.create(fresh)
    : undefined;
  if (renewed) {
    const { token } = renewed;
    return json(view(fresh), {
      headers: {
        "set-cookie": sessionCookie(ctx.cookieName, token, {
          maxAgeSeconds: ctx.sessions.maxAgeSeconds,
          secure: ctx.secure,
        }),
      },
    });
  }
  return json(view(fresh));
}

/**
 * `DELETE /api/users/:name`.
 *
 * @param req The request.
 * @param ctx The console context.
 * @returns 200 `{}`; 404 or 409.
 * @example
 * ```ts
 * await removeUser(req, ctx);
 * ```
 */
export async function removeUser(req: RouteRequest, ctx: DashboardContext): Promise<Response> {
  const name = req.params.name!;
  const actor = req.auth!.user.username;
  if (name === actor) return problem(409, "You cannot remove your own account");
  const user = await ctx.store.findUser(name);
  if (!user) return problem(404, `No user named ${name}`);
  if (user.role === "admin" && await adminCount(ctx) <= 1) {
    return problem(409, "Cannot remove the last admin");
  }
  await ctx.store.removeUser(name);
  ctx.sessions.destroyUser(name);
  await auditConsole(ctx, actor, "user.remove", name, null);
  ctx.recordSecurityEvent({
    severity: 5,
    message: `User ${name} removed by ${actor} (web console)`,
  });
  return json({});
}

/** Appends a console user change to the audit trail (docs/SECURITY.md). */
async function auditConsole(
  ctx: DashboardContext,
  actor: string,
  action: string,
  target: string,
  detail: string | null,
): Promise<void> {
  await ctx.store.security.appendAudit({
    at: ctx.now(),
    actor: `console:${actor}`,
    action,
    target,
    detail,
  });
}

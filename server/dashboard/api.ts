/**
 * The console's request handler: a plain `Request → Response` function, so
 * tests can call it with `new Request(...)` and `Deno.serve` can run it.
 *
 * For every request it: finds the page, static file or API route (request
 * paths are only keys into fixed tables, never file paths); authenticates
 * the session cookie (or HTTP Basic where a route allows it) and re-reads the
 * user so that a removed, demoted or re-passworded user loses access at once;
 * enforces the route's role; refuses cross-site writes; adds the security
 * headers (CSP without inline scripts) to every response; records latency;
 * and turns any unexpected error into a bare 500 without internal details.
 *
 * @module
 */

import { ASSETS, INDEX_PATH, LOGIN_PATH, serveAsset } from "./assets.ts";
import { checkPassword } from "./auth_routes.ts";
import type { Auth, DashboardContext } from "./context.ts";
import { parseCookies, problem, withSecurityHeaders } from "./http.ts";
import { matchRoute, type Route } from "./routes.ts";
import { sameCredential } from "./session.ts";
import { isValidUserName } from "../store/user_name.ts";

/** Methods that change state and therefore must come from the console's own origin. */
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Builds the handler of the console.
 *
 * @param ctx Shared server parts.
 * @returns The handler; `remoteAddress` is the client's IP (from `Deno.serve`'s info).
 * @example
 * ```ts
 * const handle = createDashboardHandler(ctx);
 * const response = await handle(new Request("http://localhost/healthz"), "127.0.0.1");
 * ```
 */
export function createDashboardHandler(
  ctx: DashboardContext,
): (request: Request, remoteAddress?: string) => Promise<Response> {
  return async (request, remoteAddress = "unknown") => {
    const started = performance.now();
    let label = "other";
    let response: Response;
    try {
      const url = new URL(request.url);
      const result = await dispatch(ctx, request, url, remoteAddress);
      label = result.label;
      response = result.response;
    } catch (error) {
      ctx.log.error("Console request failed", {
        method: request.method,
        error: (error as Error).message,
      });
      response = problem(500, "Internal error");
    }
    ctx.metrics.observeRequest(label, (performance.now() - started) / 1000);
    return withSecurityHeaders(response, { secure: ctx.secure });
  };
}

async function dispatch(
  ctx: DashboardContext,
  request: Request,
  url: URL,
  remoteAddress: string,
): Promise<{ label: string; response: Response }> {
  const path = url.pathname;
  const method = request.method;

  const asset = ASSETS.get(path);
  if (asset) {
    const label = path.startsWith("/static/") ? "GET /static" : `GET ${path}`;
    if (method !== "GET" && method !== "HEAD") {
      return { label, response: problem(405, "Method not allowed", { allow: "GET, HEAD" }) };
    }
    if (asset.public) {
      // Someone already signed in who opens /login goes to the console.
      if (path === LOGIN_PATH && await authenticate(ctx, request, false)) {
        return { label, response: redirect(INDEX_PATH) };
      }
      return { label, response: serveAsset(asset, request) };
    }
    if (!await authenticate(ctx, request, false)) {
      return {
        label,
        response: path === INDEX_PATH ? redirect(LOGIN_PATH) : problem(401, "Sign in first"),
      };
    }
    return { label, response: serveAsset(asset, request) };
  }

  const match = matchRoute(method, path);
  if (match.kind === "none") return { label: "other", response: problem(404, "Not found") };
  if (match.kind === "method") {
    return {
      label: "other",
      response: problem(405, "Method not allowed", { allow: match.allow.join(", ") }),
    };
  }
  const route = match.route;
  const label = `${route.method} ${route.path}`;
  if (UNSAFE_METHODS.has(method) && !sameOrigin(request, url)) {
    return { label, response: problem(403, "Cross-site request refused") };
  }
  let auth: Auth | null = null;
  if (route.access !== "public") {
    auth = await authenticate(ctx, request, route.basicAuth === true, remoteAddress);
    if (!auth) {
      const headers: HeadersInit = route.basicAuth
        ? { "www-authenticate": 'Basic realm="NMS", charset="UTF-8"' }
        : {};
      return { label, response: problem(401, "Sign in first", headers) };
    }
    if (!allowed(route, auth)) {
      return { label, response: problem(403, "Not allowed for your role") };
    }
  }
  const response = await route.handle({
    request,
    url,
    params: match.params,
    auth,
    remoteAddress,
  }, ctx);
  return { label, response };
}

function allowed(route: Route, auth: Auth): boolean {
  const role = auth.user.role;
  if (role === "agent") return false;
  return route.access !== "admin" || role === "admin";
}

/**
 * The user behind a request: the session cookie, else (where allowed) HTTP
 * Basic credentials. The user is re-read from the store each time.
 */
async function authenticate(
  ctx: DashboardContext,
  request: Request,
  basic: boolean,
  remoteAddress = "unknown",
): Promise<Auth | null> {
  const token = parseCookies(request).get(ctx.cookieName);
  if (token) {
    const session = await ctx.sessions.get(token);
    if (session) {
      const user = await ctx.store.findUser(session.username);
      // A removed user, or a new password or role, ends the session.
      if (user && sameCredential(session, user) && user.role !== "agent") {
        return { session, user };
      }
      ctx.sessions.destroy(session.id);
    }
  }
  if (!basic) return null;
  const credentials = basicCredentials(request);
  if (!credentials) return null;
  // Counted before any hashing, like a console login (auth_routes.ts).
  if (ctx.throttle.reserve(remoteAddress) > 0) return null;
  const validName = isValidUserName(credentials.username);
  const attempt = await ctx.lockout?.reserve(
    validName ? credentials.username : null,
    remoteAddress,
    ctx.now(),
  ) ?? null;
  if (attempt && !attempt.ok) {
    ctx.throttle.release(remoteAddress);
    return null;
  }
  const user = validName
    ? await checkPassword(ctx, credentials.username, credentials.password)
    : undefined;
  if (!user) {
    await attempt?.fail();
    return null;
  }
  ctx.throttle.succeed(remoteAddress);
  await attempt?.succeed();
  return { session: null, user };
}

function basicCredentials(request: Request): { username: string; password: string } | undefined {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Basic ([A-Za-z0-9+/=]{1,2048})$/i.exec(header);
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.fromBase64(match[1]!));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Whether a state-changing request comes from the console itself. Browsers
 * send `Origin` (or at least `Sec-Fetch-Site`) on such requests; scripts such
 * as curl send neither and are allowed, since they hold their own cookie.
 */
function sameOrigin(request: Request, url: URL): boolean {
  const origin = request.headers.get("origin");
  if (origin !== null) return origin === url.origin;
  const site = request.headers.get("sec-fetch-site");
  return site === null || site === "same-origin" || site === "none";
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

/**
 * The URL → handler table of the console's JSON API, with the access each
 * route requires. Pages and static files are served by `assets.ts`.
 *
 * @module
 */

import { login, logout, me } from "./auth_routes.ts";
import type { DashboardContext, RouteRequest } from "./context.ts";
import { countLogs, exportLogs, searchLogs, streamLogs } from "./log_routes.ts";
import { getStats, health, listAgents, metrics } from "./monitor_routes.ts";
import { addUser, listUsers, removeUser, updateUser } from "./user_routes.ts";
import { listSources } from "./source_routes.ts";
import { listAlerts } from "./alert_routes.ts";
import { getStorage } from "./storage_routes.ts";

/**
 * Who may call a route: anyone (`public`), any signed-in console user
 * (`viewer`: viewers and admins), or admins only (`admin`).
 */
export type Access = "public" | "viewer" | "admin";

/** One API route. */
export interface Route {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path with `:name` segments, e.g. `/api/users/:name`. */
  readonly path: string;
  readonly access: Access;
  /** Also accept HTTP Basic credentials (for scrapers that cannot keep a cookie). */
  readonly basicAuth?: boolean;
  readonly handle: (req: RouteRequest, ctx: DashboardContext) => Response | Promise<Response>;
}

/** Every API route. */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/healthz", access: "public", handle: health },
  { method: "GET", path: "/metrics", access: "viewer", basicAuth: true, handle: metrics },
  { method: "POST", path: "/api/login", access: "public", handle: login },
  { method: "POST", path: "/api/logout", access: "viewer", handle: logout },
  { method: "GET", path: "/api/me", access: "viewer", handle: me },
  { method: "GET", path: "/api/logs", access: "viewer", handle: searchLogs },
  { method: "GET", path: "/api/logs/count", access: "viewer", handle: countLogs },
  { method: "GET", path: "/api/logs/export", access: "viewer", handle: exportLogs },
  { method: "GET", path: "/api/logs/stream", access: "viewer", handle: streamLogs },
  { method: "GET", path: "/api/agents", access: "viewer", handle: listAgents },
  // Syslog senders (server/syslog/).
  { method: "GET", path: "/api/sources", access: "viewer", handle: listSources },
  // Detection rules' alerts (server/rules/, docs/RULES.md).
  { method: "GET", path: "/api/alerts", access: "viewer", handle: listAlerts },
  { method: "GET", path: "/api/stats", access: "viewer", handle: getStats },
  // Oldest event kept and database size (retention).
  { method: "GET", path: "/api/storage", access: "viewer", handle: getStorage },
  { method: "GET", path: "/api/users", access: "admin", handle: listUsers },
  { method: "POST", path: "/api/users", access: "admin", handle: addUser },
  { method: "PATCH", path: "/api/users/:name", access: "admin", handle: updateUser },
  { method: "DELETE", path: "/api/users/:name", access: "admin", handle: removeUser },
];

/** The outcome of matching a request against {@linkcode ROUTES}. */
export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  /** The path exists with other methods. */
  | { kind: "method"; allow: string[] }
  | { kind: "none" };

/**
 * Finds the route of a request.
 *
 * @param method HTTP method (`HEAD` matches `GET` routes).
 * @param path URL path.
 * @returns The route and its decoded path parameters, or why none matched.
 * @example
 * ```ts
 * matchRoute("DELETE", "/api/users/bob"); // { kind: "found", params: { name: "bob" }, ... }
 * ```
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const segments = path.split("/");
  const allow: string[] = [];
  for (const route of ROUTES) {
    const params = matchPath(route.path.split("/"), segments);
    if (!params) continue;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) {
      return { kind: "found", route, params };
    }
    allow.push(route.method);
  }
  return allow.length ? { kind: "method", allow } : { kind: "none" };
}

function matchPath(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(":")) {
      let value: string;
      try {
        value = decodeURIComponent(s);
      } catch {
        return undefined;
      }
      if (value === "") return undefined;
      params[p.slice(1)] = value;
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

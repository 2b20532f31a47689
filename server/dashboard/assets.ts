/**
 * The console's pages and static files, as an allow-list built at start-up.
 *
 * Every file is imported as a text module (`with { type: "text" }`), so it is
 * part of the module graph: `deno compile` embeds it in the binary without any
 * `--include` flag, and a request path is only ever a key into this map, never
 * a file path. uPlot's dist files are imported the same way straight from its
 * npm package (pinned in deno.json and deno.lock): there is no vendored copy
 * and no build step.
 *
 * @module
 */

import agentsJs from "./static/agents.js" with { type: "text" };
import alertBadgeJs from "./static/alert_badge.js" with { type: "text" };
import alertsJs from "./static/alerts.js" with { type: "text" };
import apiJs from "./static/api.js" with { type: "text" };
import appJs from "./static/app.js" with { type: "text" };
import domJs from "./static/dom.js" with { type: "text" };
import faviconSvg from "./static/favicon.svg" with { type: "text" };
import formatJs from "./static/format.js" with { type: "text" };
import indexHtml from "./static/index.html" with { type: "text" };
import liveJs from "./static/live.js" with { type: "text" };
import loginHtml from "./static/login.html" with { type: "text" };
import loginJs from "./static/login.js" with { type: "text" };
import rowsJs from "./static/rows.js" with { type: "text" };
import searchJs from "./static/search.js" with { type: "text" };
import sourcesJs from "./static/sources.js" with { type: "text" };
import statsJs from "./static/stats.js" with { type: "text" };
import styleCss from "./static/style.css" with { type: "text" };
import usersJs from "./static/users.js" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

/** One servable file. */
export interface Asset {
  readonly body: Uint8Array;
  readonly contentType: string;
  /**
   * Whether the login page needs it, so it is served without a session.
   * Everything else requires one.
   */
  readonly public: boolean;
  /** Strong validator for conditional requests. */
  readonly etag: string;
  /** The body gzipped once at start-up, when that makes it smaller. */
  readonly gzip?: { readonly body: Uint8Array; readonly etag: string };
  /** Pages are never cached; static files are revalidated with the ETag. */
  readonly cacheControl: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const HTML = "text/html; charset=utf-8";

/** Path of the console's main page. */
export const INDEX_PATH = "/";
/** Path of the login page. */
export const LOGIN_PATH = "/login";

const FILES: [path: string, text: string, type: string, isPublic: boolean][] = [
  [INDEX_PATH, indexHtml, HTML, false],
  [LOGIN_PATH, loginHtml, HTML, true],
  ["/static/login.js", loginJs, JS, true],
  ["/static/style.css", styleCss, CSS, true],
  ["/static/favicon.svg", faviconSvg, "image/svg+xml", true],
  ["/static/app.js", appJs, JS, false],
  ["/static/api.js", apiJs, JS, false],
  ["/static/dom.js", domJs, JS, false],
  ["/static/format.js", formatJs, JS, false],
  ["/static/rows.js", rowsJs, JS, false],
  ["/static/live.js", liveJs, JS, false],
  ["/static/search.js", searchJs, JS, false],
  ["/static/agents.js", agentsJs, JS, false],
  ["/static/alerts.js", alertsJs, JS, false],
  ["/static/alert_badge.js", alertBadgeJs, JS, false],
  ["/static/sources.js", sourcesJs, JS, false],
  ["/static/stats.js", statsJs, JS, false],
  ["/static/users.js", usersJs, JS, false],
  ["/static/uPlot.iife.min.js", uplotJs, JS, false],
  ["/static/uPlot.min.css", uplotCss, CSS, false],
];

/** Every servable path and its file, each compressed once here rather than per request. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  await Promise.all(FILES.map(async ([path, text, contentType, isPublic]) => {
    const body = new TextEncoder().encode(text);
    const page = contentType === HTML;
    const etag = `"${fnv1a(body)}-${body.length.toString(36)}"`;
    const gzipped = await gzip(body);
    const asset: Asset = {
      body,
      contentType,
      public: isPublic,
      etag,
      cacheControl: page ? "no-store" : "no-cache",
      // A strong ETag names one representation, so the gzipped body has its own.
      ...gzipped.length < body.length
        ? { gzip: { body: gzipped, etag: `${etag.slice(0, -1)}-gz"` } }
        : {},
    };
    return [path, asset] as const;
  })),
);

/**
 * Serves an asset, answering `If-None-Match` with 304.
 *
 * @param asset The file.
 * @param request The request (for conditional GET and HEAD).
 * @returns The response, without security headers (the caller adds them).
 * @example
 * ```ts
 * const asset = ASSETS.get("/static/app.js");
 * if (asset) return serveAsset(asset, request);
 * ```
 */
export function serveAsset(asset: Asset, request: Request): Response {
  const gzipped = asset.gzip && acceptsGzip(request.headers.get("accept-encoding"))
    ? asset.gzip
    : undefined;
  const { body, etag } = gzipped ?? asset;
  const headers: Record<string, string> = {
    "content-type": asset.contentType,
    "cache-control": asset.cacheControl,
    etag,
  };
  if (asset.gzip) headers.vary = "Accept-Encoding";
  if (gzipped) headers["content-encoding"] = "gzip";
  if (request.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : body.slice(), { headers });
}

/**
 * Whether an `Accept-Encoding` header accepts gzip (RFC 9110 section 12.5.3):
 * `gzip` or `*` listed without `q=0`.
 */
function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  let wildcard = false;
  for (const item of header.toLowerCase().split(",")) {
    const [coding = "", ...params] = item.split(";").map((part) => part.trim());
    const refused = params.some((param) => /^q=0(\.0{0,3})?$/.test(param));
    if (coding === "gzip" || coding === "x-gzip") return !refused;
    if (coding === "*") wildcard = !refused;
  }
  return wildcard;
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** 32-bit FNV-1a of the bytes, base 36: enough to tell versions of a file apart. */
function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

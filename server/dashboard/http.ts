/**
 * HTTP helpers of the web console: JSON responses, the security headers sent
 * with every response, cookies, and bounded JSON bodies.
 *
 * @module
 */

/**
 * Content-Security-Policy of every response. Scripts, styles and everything
 * else load only from this origin; no inline script or style element runs;
 * Trusted Types forbid assigning strings to `innerHTML` and other HTML sinks
 * at all, so log text can only ever reach the page as text.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/** Largest JSON request body accepted, in bytes. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/**
 * Adds the security headers to a response (in place) and returns it.
 *
 * @param response Any response of the console.
 * @param options `secure`: the server runs TLS (adds HSTS).
 * @returns The same response.
 * @example
 * ```ts
 * return withSecurityHeaders(new Response("ok"), { secure: false });
 * ```
 */
export function withSecurityHeaders(response: Response, options: { secure: boolean }): Response {
  const h = response.headers;
  h.set("content-security-policy", CONTENT_SECURITY_POLICY);
  h.set("x-content-type-options", "nosniff");
  h.set("x-frame-options", "DENY");
  h.set("referrer-policy", "no-referrer");
  h.set("cross-origin-opener-policy", "same-origin");
  h.set("cross-origin-resource-policy", "same-origin");
  h.set("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
  if (!h.has("cache-control")) h.set("cache-control", "no-store");
  if (options.secure) h.set("strict-transport-security", "max-age=31536000");
  return response;
}

/**
 * A JSON response.
 *
 * @param value Serialisable value.
 * @param init Status and extra headers.
 * @returns The response.
 * @example
 * ```ts
 * return json({ ok: true }, { status: 201 });
 * ```
 */
export function json(value: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(value), { ...init, headers });
}

/**
 * An error response: `{"error": message}`. The message is for the client, so
 * it never carries internal details.
 *
 * @param status HTTP status.
 * @param message What was wrong, in one sentence.
 * @param headers Extra headers (e.g. Retry-After).
 * @returns The response.
 * @example
 * ```ts
 * return problem(404, "No user named bob");
 * ```
 */
export function problem(status: number, message: string, headers: HeadersInit = {}): Response {
  return json({ error: message }, { status, headers });
}

/**
 * Reads the cookies of a request.
 *
 * @param request The request.
 * @returns Cookie values by name (the first of duplicates wins).
 * @example
 * ```ts
 * parseCookies(request).get("nms_session");
 * ```
 */
export function parseCookies(request: Request): Map<string, string> {
  const cookies = new Map<string, string>();
  const header = request.headers.get("cookie");
  if (!header) return cookies;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * A `Set-Cookie` value for the session cookie: HttpOnly, SameSite=Strict,
 * Path=/, and Secure under TLS.
 *
 * @param name Cookie name.
 * @param value Token, or "" to delete the cookie.
 * @param options Lifetime in seconds (0 deletes) and whether the server runs TLS.
 * @returns The header value.
 * @example
 * ```ts
 * headers.append("set-cookie", sessionCookie("nms_session", token, { maxAgeSeconds: 43200, secure: false }));
 * ```
 */
export function sessionCookie(
  name: string,
  value: string,
  options: { maxAgeSeconds: number; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    "Path=/",
    `Max-Age=${options.maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}

/**
 * Reads a JSON object body of at most {@linkcode MAX_JSON_BODY_BYTES}. Requires
 * `Content-Type: application/json`, which a cross-site HTML form cannot send.
 *
 * @param request The request.
 * @returns The object, or why the body is unacceptable.
 * @example
 * ```ts
 * const body = await readJsonObject(request);
 * if (!body.ok) return problem(400, body.reason);
 * ```
 */
export async function readJsonObject(
  request: Request,
): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; reason: string }> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    return { ok: false, reason: "Expected Content-Type: application/json" };
  }
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_JSON_BODY_BYTES) return { ok: false, reason: "Request body too large" };
  if (!request.body) return { ok: false, reason: "Expected a JSON object body" };
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > MAX_JSON_BODY_BYTES) return { ok: false, reason: "Request body too large" };
      chunks.push(chunk);
    }
  } catch {
    return { ok: false, reason: "Could not read the request body" };
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, reason: "Body is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, reason: "Expected a JSON object body" };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

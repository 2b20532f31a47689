// The console's calls to its own JSON API (docs/API.md). A 401 means the
// session ended: back to the login page.

/** An API error with the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls the API.
 * @param {string} path e.g. "/api/agents"
 * @param {{method?: string, body?: unknown, params?: Record<string, string>}} [options]
 */
export async function api(path, options = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(options.params ?? {})) {
    if (value !== "" && value !== undefined && value !== null) url.searchParams.set(name, value);
  }
  const init = { method: options.method ?? "GET", credentials: "same-origin", headers: {} };
  if (options.body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(url, init);
  if (response.status === 401 && path !== "/api/login") {
    location.replace("/login");
    throw new ApiError(401, "Session ended");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`);
  return body;
}

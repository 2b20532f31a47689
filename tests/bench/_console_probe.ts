/**
 * The operator's side of the fleet benchmark's console API, in a Worker of
 * its own: it signs in, fetches what it is asked and times each request on
 * its own thread, so a figure is the server's answer time, not the wait of a
 * bench process busy with thousands of simulated agents.
 *
 * Messages in: `{ id, path }`; out: `{ id, status, text, ms }`. The first
 * message is `{ id, login: { baseUrl, password } }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

/** A request to the probe. */
export interface ProbeRequest {
  readonly id: number;
  readonly path?: string;
  readonly login?: { readonly baseUrl: string; readonly password: string };
}

/** The probe's answer to one request. */
export interface ProbeAnswer {
  readonly id: number;
  readonly status: number;
  readonly text: string;
  /** Time from the request to its whole answer, in milliseconds. */
  readonly ms: number;
}

let baseUrl = "";
let cookie = "";

async function answer(request: ProbeRequest): Promise<ProbeAnswer> {
  const start = performance.now();
  if (request.login) {
    baseUrl = request.login.baseUrl;
    const response = await fetch(new URL("/api/login", baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: request.login.password }),
    });
    await response.body?.cancel();
    cookie = response.headers.get("set-cookie")?.split(";")[0] ?? "";
    return { id: request.id, status: response.status, text: "", ms: performance.now() - start };
  }
  const response = await fetch(new URL(request.path!, baseUrl), { headers: { cookie } });
  const text = await response.text();
  return { id: request.id, status: response.status, text, ms: performance.now() - start };
}

self.onmessage = async (event: MessageEvent<ProbeRequest>) => {
  try {
    self.postMessage(await answer(event.data));
  } catch (error) {
    self.postMessage({ id: event.data.id, status: 0, text: String(error), ms: 0 });
  }
};

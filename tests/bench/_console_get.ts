/**
 * A benchmark's reader of the console API: a viewer created in the store,
 * signed in over real HTTP, and a GET that parses the JSON answer.
 *
 * @module
 */

import { hashPassword } from "../../server/auth/password.ts";
import type { Store } from "../../server/store/mod.ts";

/** Name of the viewer the benchmark signs in as. */
const BENCH_USER = "bench";
/** Its password (the store keeps only a cheap hash of it). */
const BENCH_PASSWORD = "bench-pass-1";

/** A GET of a console path, parsed as JSON; throws with the path and body on an error status. */
// deno-lint-ignore no-explicit-any -- each benchmark reads the fields of the answers it asks for
export type ConsoleGet = (path: string) => Promise<any>;

/**
 * Creates the viewer `bench` in `store` and signs in to the console at `baseUrl`.
 *
 * @param store The console's store.
 * @param baseUrl The console's URL.
 * @returns A GET that sends the session cookie.
 * @example
 * ```ts
 * const get = await consoleGet(store, dashboard.url);
 * const page = await get("/api/agents");
 * ```
 */
export async function consoleGet(store: Store, baseUrl: string): Promise<ConsoleGet> {
  await store.createUser(BENCH_USER, await hashPassword(BENCH_PASSWORD, { logN: 10 }), "viewer");
  const login = await fetch(`${baseUrl}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: BENCH_USER, password: BENCH_PASSWORD }),
  });
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  return async (path) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
    const body = await response.json();
    if (!response.ok) throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body;
  };
}

/**
 * Helpers for web console tests: users, an agent-like protocol client, sample
 * log lines, and a signed-in API client over real HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hashPassword } from "../../server/auth/password.ts";
import type { Role, Store } from "../../server/store/store.ts";
import { LineClient } from "./line_client.ts";

/**
 * Creates a user directly in the store (cheap scrypt cost, for tests).
 *
 * @param store The server's store.
 * @param username Name.
 * @param role Role.
 * @param password Password.
 * @example
 * ```ts
 * await addUser(srv.store, "viewer1", "viewer", "viewer-pass");
 * ```
 */
export async function addUser(
  store: Store,
  username: string,
  role: Role,
  password: string,
): Promise<void> {
  await store.createUser(username, await hashPassword(password, { logN: 10 }), role);
}

/**
 * Connects like an agent: LOGIN, then REGISTER as `hostname`.
 *
 * @param port The server's agent port.
 * @param login User name and password of an account that may send events.
 * @param hostname Hostname to register.
 * @returns The connected client; every ACK so far was read.
 * @example
 * ```ts
 * await using agent = await connectAgent(srv.port, { username: "admin", password: "admin" }, "web-01");
 * await agent.send("HEARTBEAT 10");
 * ```
 */
export async function connectAgent(
  port: number,
  login: { username: string; password: string },
  hostname: string,
): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.readLine(); // welcome
  await client.send(`LOGIN ${login.username} ${login.password}`);
  await client.send(`REGISTER 1.4.2 ${hostname} Debian GNU/Linux 12 (bookworm)`);
  assert.deepEqual(await client.readLines(2), [
    "ACK OK Login successful",
    "ACK OK Registration successful",
  ]);
  return client;
}

/**
 * Sends event lines as `EVENT` commands (as nms-agent does) and waits for every ACK.
 *
 * @param client A logged-in client.
 * @param stream Origin stream id.
 * @param lines The log lines.
 * @param firstPosition Position of the first line.
 * @example
 * ```ts
 * await sendEvents(agent, "s1", ["hello"]);
 * ```
 */
export async function sendEvents(
  client: LineClient,
  stream: string,
  lines: readonly string[],
  firstPosition = 1,
): Promise<void> {
  for (let i = 0; i < lines.length; i++) {
    await client.send(`EVENT ${stream} ${firstPosition + i} ${lines[i]}`);
  }
  const acks = await client.readLines(lines.length);
  assert.ok(acks.every((a) => a.startsWith("ACK OK")), acks.find((a) => !a.startsWith("ACK OK")));
}

/**
 * Realistic RFC 5424 lines from several hosts and programs, spread over the
 * last `spreadMinutes`, with a few failed SSH logins.
 *
 * @param count Lines.
 * @param now Current time, ms.
 * @param spreadMinutes How far back event times go.
 * @returns The lines.
 * @example
 * ```ts
 * sampleLines(100, Date.now());
 * ```
 */
export function sampleLines(count: number, now: number, spreadMinutes = 50): string[] {
  const hosts = ["web-01", "web-02", "db-01", "fw-edge", "mail-01"];
  const templates: [string, number, string][] = [
    ["nginx", 6, "GET /api/orders 200 12ms"],
    ["nginx", 4, "upstream response time 2.4s exceeds warning threshold"],
    ["postgres", 6, "checkpoint complete: wrote 412 buffers"],
    ["postgres", 3, "ERROR: deadlock detected"],
    ["sshd", 6, "Accepted publickey for deploy from 10.0.4.2 port 50422 ssh2"],
    ["sshd", 5, "Failed password for root from 203.0.113.9 port 52311 ssh2"],
    ["kernel", 4, "TCP: request_sock_TCP: Possible SYN flooding on port 443"],
    ["CRON", 6, "(root) CMD (/usr/local/bin/backup.sh)"],
    ["systemd", 5, "Started Daily apt upgrade and clean activities."],
    ["postfix", 6, "connect from mail.example.org[198.51.100.7]"],
  ];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const [program, severity, message] = templates[(i * 7) % templates.length]!;
    const host = hosts[(i * 3) % hosts.length]!;
    const ts = new Date(now - Math.floor(((count - i) / count) * spreadMinutes * 60_000));
    lines.push(
      `<${4 * 8 + severity}>1 ${ts.toISOString()} ${host} ${program} ${100 + i} - - ${message}`,
    );
  }
  return lines;
}

/** A signed-in HTTP client of the console API. */
export interface ApiClient {
  readonly cookie: string;
  /** Fetches a path of the console with the session cookie. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Fetches and parses JSON, asserting the status. */
  json<T = Record<string, unknown>>(path: string, init?: RequestInit, status?: number): Promise<T>;
}

/**
 * Signs in to the console API.
 *
 * @param baseUrl The console's base URL.
 * @param username User name.
 * @param password Password.
 * @returns A client that sends the session cookie.
 * @example
 * ```ts
 * const api = await signIn(srv.httpUrl!, "admin", "admin");
 * await api.json("/api/agents");
 * ```
 */
export async function signIn(
  baseUrl: string,
  username: string,
  password: string,
): Promise<ApiClient> {
  const response = await fetch(`${baseUrl}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  await response.body?.cancel();
  assert.equal(response.status, 200, `login of ${username}`);
  const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
  const doFetch = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("cookie", cookie);
    return fetch(`${baseUrl}${path}`, { ...init, headers });
  };
  return {
    cookie,
    fetch: doFetch,
    async json<T>(path: string, init: RequestInit = {}, status = 200): Promise<T> {
      const response = await doFetch(path, init);
      const text = await response.text();
      assert.equal(response.status, status, `${init.method ?? "GET"} ${path}: ${text}`);
      return JSON.parse(text) as T;
    },
  };
}

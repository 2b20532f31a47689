/**
 * `spawnServerProcess()`: `nms-server serve` as a real subprocess on an
 * ephemeral loopback port, for tests that kill a server mid-stream.
 *
 * @module
 */

import { join } from "node:path";
import { watchChild } from "./watched_child.ts";
import { LINEAR_REGEX_V8_FLAGS } from "../../server/rules/linear_regex.ts";

/** How long dispose waits for a graceful stop before killing the server, in ms. */
const STOP_TIMEOUT_MS = 10_000;

/** Options of {@linkcode spawnServerProcess}. */
export interface ServerProcessOptions {
  /** Extra `serve` flags, e.g. `["--store", url]`. */
  readonly args?: readonly string[];
  /**
   * Password of the bootstrapped `admin`.
   * @default {"admin"}
   */
  readonly adminPassword?: string;
  /**
   * How long to wait for the server to listen, in ms.
   * @default {30000}
   */
  readonly startTimeoutMs?: number;
  /**
   * A command the server is started through, given the deno binary and its
   * arguments, e.g. `["prlimit", "--nofile=600:600"]`.
   * @default {[]}
   */
  readonly wrapper?: readonly string[];
}

/** A running server subprocess. */
export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** Sends a signal (default SIGTERM) and waits for the process to exit. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `nms-server serve --port 0 --host 127.0.0.1 --http-port 0` plus `args`, and waits
 * until it logs the port it listens on.
 *
 * @param options Flags and admin password.
 * @returns The running process; dispose it with `await using`.
 * @throws {Error} When the server exits or does not listen in time.
 * @example
 * ```ts
 * await using server = await spawnServerProcess({ args: ["--store", url, "--workers", "1"] });
 * ```
 */
export async function spawnServerProcess(
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const [command, ...wrapperArgs] = [...(options.wrapper ?? []), Deno.execPath()];
  const child = new Deno.Command(command!, {
    args: [
      ...wrapperArgs,
      "run",
      "-A",
      `--v8-flags=${LINEAR_REGEX_V8_FLAGS}`,
      join(import.meta.dirname!, "../../server/main.ts"),
      "serve",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--http-port",
      "0",
      ...(options.args ?? []),
    ],
    env: { NMS_ADMIN_PASSWORD: options.adminPassword ?? "admin", NMS_LOG_LEVEL: "info" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let resolvePort!: (port: number) => void;
  const listening = new Promise<number>((resolve) => resolvePort = resolve);
  const watched = watchChild(child, {
    onStderr: (text) => {
      const match = /Listening for agents address=[^ ]*:(\d+)/.exec(text);
      if (match) resolvePort(Number(match[1]));
    },
  });
  const { stop, status } = watched;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const port = await Promise.race([
      listening,
      status.then((s) => {
        throw new Error(`Server exited (code ${s.code}) before listening:\n${watched.stderr()}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Server did not listen in time:\n${watched.stderr()}`)),
          options.startTimeoutMs ?? 30_000,
        );
      }),
    ]);
    return {
      port,
      pid: child.pid,
      stderr: watched.stderr,
      stop,
      async [Symbol.asyncDispose]() {
        // A graceful stop, or a kill when it takes too long.
        const killer = setTimeout(() => {
          if (!watched.exited()) child.kill("SIGKILL");
        }, STOP_TIMEOUT_MS);
        try {
          await stop("SIGTERM");
        } finally {
          clearTimeout(killer);
        }
      },
    };
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

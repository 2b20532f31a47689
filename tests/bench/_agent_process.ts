/**
 * The agent of a benchmark as a real process: started against a local server
 * with the password file and state directory of the run's folder, and awaited
 * until it is connected.
 *
 * @module
 */

import { join, resolve } from "node:path";

/** The checkout this file belongs to. */
const THIS_TREE = resolve(import.meta.dirname!, "../..");

/** Options of {@linkcode spawnBenchAgent}. */
export interface BenchAgentOptions {
  /** Port of the server on 127.0.0.1. */
  port: number;
  /** The run's folder, holding `password`; the agent keeps its state in `state` below it. */
  dir: string;
  /** The `--path` the agent follows (a file or a glob). */
  path: string;
  /** Checkout whose `agent/main.ts` runs. @default {this checkout} */
  tree?: string;
}

/**
 * Starts `agent/main.ts run` as user `admin`, stdout discarded, stderr piped
 * (read it with {@linkcode agentConnected}).
 *
 * @param options Server, folder, path and checkout.
 * @returns The agent process.
 * @example
 * ```ts
 * const agent = spawnBenchAgent({ port: server.port, dir, path: join(dir, "app.log") });
 * await agentConnected(agent);
 * ```
 */
export function spawnBenchAgent(options: BenchAgentOptions): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(options.tree ?? THIS_TREE, "agent/main.ts"),
      "run",
      "--server",
      `127.0.0.1:${options.port}`,
      "--user",
      "admin",
      "--password-file",
      join(options.dir, "password"),
      "--path",
      options.path,
      "--state-dir",
      join(options.dir, "state"),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/**
 * Resolves once the agent reports `state=connected` on stderr, and keeps
 * draining stderr after so the agent never blocks on a full pipe.
 *
 * @param agent A process from {@linkcode spawnBenchAgent}.
 * @returns When the agent is connected; rejects with its stderr if it exits first.
 * @example
 * ```ts
 * await agentConnected(spawnBenchAgent({ port, dir, path }));
 * ```
 */
export async function agentConnected(agent: Deno.ChildProcess): Promise<void> {
  const reader = agent.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("state=connected")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Agent exited:\n${text}`);
    text += value;
  }
  (async () => {
    try {
      while (!(await reader.read()).done);
    } catch { /* closed */ }
  })();
}

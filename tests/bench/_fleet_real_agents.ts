/**
 * Real `nms-agent` processes beside the simulated fleet, each following one
 * small file and logging in with the fleet's enrollment token. Each runs in
 * its own UTS namespace (`unshare --user --map-root-user --uts`) with the
 * hostname `real-N` when the machine allows it, since the agent registers
 * with the host's name; otherwise they share this host's name.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";

const AGENT_MAIN = join(import.meta.dirname!, "../../agent/main.ts");

/** Real agents, their files and what the server stored of them. */
export interface RealAgents {
  /** Agents started. */
  readonly count: number;
  /** Hostnames they register with (one when they share this host's name). */
  readonly hostnames: readonly string[];
  /** Appends one line with `marker` to every followed file. */
  append(marker: string): Promise<void>;
  /** How many lines holding `marker` the server has stored. */
  stored(marker: string): number;
  /** Agents that exited. */
  exited(): number;
  /** SIGTERM to each, and waits. */
  stop(): Promise<void>;
}

/** Whether a process can get its own hostname in a user namespace here. */
async function canUnshare(): Promise<boolean> {
  try {
    const output = await new Deno.Command("unshare", {
      args: ["--user", "--map-root-user", "--uts", "hostname", "real-0"],
      stdout: "null",
      stderr: "null",
    }).output();
    return output.success;
  } catch {
    return false;
  }
}

/**
 * Starts `count` agents against the server on `port`.
 *
 * @param dir Where their files, state and token live.
 * @param options Agent port, the server's database, the token and the count.
 * @returns The running agents.
 */
export async function startRealAgents(
  dir: string,
  options: { port: number; dbPath: string; token: string; count: number },
): Promise<RealAgents> {
  await Deno.mkdir(dir, { recursive: true });
  const tokenFile = join(dir, "token");
  await Deno.writeTextFile(tokenFile, options.token + "\n", { mode: 0o600 });
  // Deno compiles and caches the agent's modules on the first run: start warm.
  await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", AGENT_MAIN, "version"],
    stdout: "null",
    stderr: "null",
  }).output();
  const unshare = await canUnshare();
  const children: Deno.ChildProcess[] = [];
  const files: Deno.FsFile[] = [];
  const exited = new Set<number>();
  for (let i = 0; i < options.count; i++) {
    const home = join(dir, `real-${i + 1}`);
    await Deno.mkdir(join(home, "state"), { recursive: true });
    const path = join(home, "app.log");
    files.push(await Deno.open(path, { create: true, append: true }));
    const agentArgs = [
      "run",
      "-A",
      AGENT_MAIN,
      "run",
      "--server",
      `127.0.0.1:${options.port}`,
      "--token-file",
      tokenFile,
      "--path",
      path,
      "--state-dir",
      join(home, "state"),
    ];
    const command = unshare
      ? new Deno.Command("unshare", {
        args: [
          "--user",
          "--map-root-user",
          "--uts",
          "sh",
          "-c",
          `hostname real-${i + 1} && exec "$0" "$@"`,
          Deno.execPath(),
          ...agentArgs,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      })
      : new Deno.Command(Deno.execPath(), {
        args: agentArgs,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      });
    const child = command.spawn();
    child.status.then(() => exited.add(i));
    children.push(child);
  }
  const db = new DatabaseSync(options.dbPath, { readOnly: true });
  const count = db.prepare("SELECT count(*) AS n FROM logs WHERE id > ? AND raw LIKE ?");
  const newest = db.prepare("SELECT coalesce(max(id), 0) AS id FROM logs");
  const since = new Map<string, number>();
  const encoder = new TextEncoder();
  return {
    count: options.count,
    hostnames: unshare
      ? Array.from({ length: options.count }, (_, i) => `real-${i + 1}`)
      : [Deno.hostname()],
    async append(marker) {
      since.set(marker, Number((newest.get() as { id: number }).id));
      await Promise.all(
        files.map((file, i) => file.write(encoder.encode(`real agent ${i + 1} line ${marker}\n`))),
      );
    },
    stored(marker) {
      const row = count.get(since.get(marker) ?? 0, `%line ${marker}`) as { n: number };
      return Number(row.n);
    },
    exited: () => exited.size,
    async stop() {
      for (const child of children) {
        try {
          child.kill("SIGTERM");
        } catch { /* already exited */ }
      }
      await Promise.all(children.map((child) => child.status));
      for (const file of files) file.close();
      db.close();
    },
  };
}

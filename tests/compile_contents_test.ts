/**
 * `deno compile` embeds the module graph of its entry point plus what
 * `--include` names, nothing else. The compile runtime cannot be
 * downloaded here, so this test rebuilds what a binary would hold: it copies
 * into an empty directory only the static module graph of the entry point
 * (`deno info --json`), the graphs of the included modules and the included
 * files, plus deno.json and deno.lock, and runs the program from that copy. A
 * Worker module, asset or data file that the `compile` task forgets makes the
 * copied server fail to start, or to log "Listening for agents".
 *
 * It also checks that `compile:all` builds both binaries for every release
 * target with the same includes as `compile`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./_harness/wait_for.ts";
import { LINEAR_REGEX_V8_FLAGS } from "../server/rules/linear_regex.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The release targets of `deno task compile:all`. */
const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

/** How long the copied server may take to start, in ms (slow under a loaded test run). */
const START_TIMEOUT_MS = 60_000;

/** One `deno compile` command of a task. */
interface CompileCommand {
  readonly entry: string;
  readonly output: string;
  readonly target: string | undefined;
  readonly includes: readonly string[];
  /** The permission flags the binary gets: `--allow-*`, `--deny-*`, `--no-prompt`. */
  readonly permissions: readonly string[];
}

/** Flags of `deno compile` that take a value as the next word. */
const VALUE_FLAGS = new Set(["--target", "-o", "--output", "--include", "--exclude", "--icon"]);

function parseCompileTask(task: string): CompileCommand[] {
  const commands: CompileCommand[] = [];
  for (const part of task.split(/&&|;/)) {
    // The shell's single quotes (around a glob such as NMS_*) are not part of a word.
    const words = part.trim().split(/\s+/).map((word) => word.replace(/^'(.*)'$/, "$1"));
    if (words[0] !== "deno" || words[1] !== "compile") continue;
    let entry = "";
    let output = "";
    let target: string | undefined;
    const includes: string[] = [];
    const permissions: string[] = [];
    for (let i = 2; i < words.length && entry === ""; i++) {
      const word = words[i]!;
      const [flag, inline] = word.startsWith("--") && word.includes("=")
        ? [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)]
        : [word, undefined];
      if (/^--(allow|deny)-|^--no-prompt$|^-A$|^--allow-all$/.test(flag)) {
        permissions.push(word);
      } else if (VALUE_FLAGS.has(flag)) {
        const value = inline ?? words[++i] ?? "";
        if (flag === "--include") includes.push(relative(ROOT, resolve(ROOT, value)));
        else if (flag === "--target") target = value;
        else if (flag === "-o" || flag === "--output") output = value;
      } else if (!word.startsWith("-")) {
        entry = relative(ROOT, resolve(ROOT, word));
      }
    }
    commands.push({ entry, output, target, includes, permissions });
  }
  return commands;
}

const TASKS: Record<string, string> = JSON.parse(
  await Deno.readTextFile(join(ROOT, "deno.json")),
).tasks ?? {};

/** Local files (relative to the root) in the static module graph of `module`. */
async function moduleGraph(module: string): Promise<string[]> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", module],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(result.success, new TextDecoder().decode(result.stderr));
  const info = JSON.parse(new TextDecoder().decode(result.stdout)) as {
    modules: { specifier: string; error?: string }[];
  };
  const files: string[] = [];
  for (const m of info.modules) {
    assert.equal(m.error, undefined, `${m.specifier}: ${m.error}`);
    if (!m.specifier.startsWith("file://")) continue;
    const path = relative(ROOT, fileURLToPath(m.specifier));
    assert.ok(!path.startsWith(".."), `${module} imports ${path}, outside the project`);
    files.push(path);
  }
  return files;
}

async function walk(path: string): Promise<string[]> {
  const info = await Deno.stat(join(ROOT, path));
  if (!info.isDirectory) return [path];
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(ROOT, path))) {
    found.push(...await walk(join(path, entry.name)));
  }
  return found;
}

/** What `deno compile` would embed for a command: graphs of entry and includes, included files. */
async function embedded(command: CompileCommand): Promise<Set<string>> {
  const files = new Set(await moduleGraph(command.entry));
  for (const include of command.includes) {
    for (const file of await walk(include)) {
      if (/\.(m?ts|m?js|tsx|jsx)$/.test(file)) {
        for (const dep of await moduleGraph(file)) files.add(dep);
      }
      files.add(file);
    }
  }
  return files;
}

/** Copies the embedded files and the configuration into a fresh directory. */
async function copyOf(files: Iterable<string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nms-compiled-" });
  for (const file of [...files, "deno.json", "deno.lock"]) {
    await Deno.mkdir(join(dir, dirname(file)), { recursive: true });
    await Deno.copyFile(join(ROOT, file), join(dir, file));
  }
  return dir;
}

/**
 * Runs a program of the copy under the permissions its binary is compiled
 * with, so a permission the binary lacks fails here as it would in production.
 */
function command(
  dir: string,
  permissions: readonly string[],
  args: string[],
  env: Record<string, string> = {},
) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "--frozen", "--config", join(dir, "deno.json"), ...args],
    cwd: dir,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("deno.json compile:all builds nms-server and nms-agent for every release target", () => {
  const single = parseCompileTask(TASKS.compile ?? "");
  const all = parseCompileTask(TASKS["compile:all"] ?? "");
  for (const target of TARGETS) {
    for (const base of single) {
      const found = all.find((c) => c.target === target && c.entry === base.entry);
      assert.ok(found, `compile:all does not build ${base.entry} for ${target}`);
      assert.deepEqual(found.includes, base.includes, `includes of ${base.entry} for ${target}`);
      assert.ok(found.output.includes(target), `output of ${found.entry} names its target`);
    }
  }
  assert.match(TASKS.compile ?? "", /^deno task build-info && /, "compile records the commit");
});

/** The permission flags of a task's `deno run`, the way parseCompileTask() reads them. */
function runPermissions(task: string): string[] {
  return task.split(/\s+/).map((word) => word.replace(/^'(.*)'$/, "$1"))
    .filter((word) => /^--(allow|deny)-|^--no-prompt$|^-A$/.test(word));
}

Deno.test("every deno task and both compiled binaries run with all of LINEAR_REGEX_V8_FLAGS", () => {
  // Every task that runs NMS code passes the flags; the compile tasks bake them into the binaries.
  const flagged = Object.entries(TASKS).filter(([, task]) => task.includes("regexp"));
  for (const name of ["start", "server", "agent", "test", "bench", "fuzz", "soak", "demo"]) {
    assert.ok(flagged.some(([n]) => n === name), `task ${name} passes no regexp flags`);
  }
  for (const [name, task] of flagged) {
    const given = [...task.matchAll(/(?:--v8-flags=|DENO_V8_FLAGS=)(\S+)/g)].map((m) => m[1]);
    assert.ok(given.length > 0, `task ${name}`);
    for (const flags of given) assert.equal(flags, LINEAR_REGEX_V8_FLAGS, `task ${name}`);
  }
  for (const name of ["compile", "compile:all"]) {
    const compiles = (TASKS[name] ?? "").split(/&&|;/).filter((p) => /deno compile/.test(p));
    assert.ok(compiles.length >= 2, `task ${name}`);
    for (const part of compiles) {
      assert.ok(part.includes(`--v8-flags=${LINEAR_REGEX_V8_FLAGS} `), `task ${name}: ${part}`);
    }
  }
});

Deno.test("deno task start, server and agent run with the permissions of their binaries", () => {
  const compiled: CompileCommand[] = parseCompileTask(TASKS.compile ?? "");
  const all: CompileCommand[] = parseCompileTask(TASKS["compile:all"] ?? "");
  const server = compiled.find((c) => c.entry === "server/main.ts");
  const agent = compiled.find((c) => c.entry === "agent/main.ts");
  assert.ok(server && agent);
  for (const permissions of [server.permissions, agent.permissions]) {
    assert.ok(!permissions.includes("-A") && !permissions.includes("--allow-all"), "no -A");
    assert.ok(permissions.includes("--no-prompt"), "a missing permission fails, never prompts");
  }
  assert.deepEqual(runPermissions(TASKS.start ?? ""), server.permissions);
  assert.deepEqual(runPermissions(TASKS.server ?? ""), server.permissions);
  assert.deepEqual(runPermissions(TASKS.agent ?? ""), agent.permissions);
  for (const target of TARGETS) {
    for (const entry of ["server/main.ts", "agent/main.ts"]) {
      const built = all.find((c) => c.target === target && c.entry === entry);
      const base: readonly string[] = entry === "server/main.ts"
        ? server.permissions
        : agent.permissions;
      assert.deepEqual(built?.permissions, base, `${entry} for ${target}`);
    }
  }
});

/** A process of a copy whose stderr is collected; stopped with SIGTERM on dispose. */
function spawnCopy(
  dir: string,
  permissions: readonly string[],
  args: string[],
  env: Record<string, string>,
) {
  const child = command(dir, permissions, args, env).spawn();
  let stderr = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  let exited = false;
  child.status.then(() => exited = true);
  return {
    stderr: () => stderr,
    /** Stops it with SIGTERM and returns its exit code. */
    async stop(): Promise<number> {
      if (!exited) child.kill("SIGTERM");
      const { code } = await child.status;
      await child.stdout.cancel();
      await reading;
      return code;
    },
  };
}

/** What a missing permission prints. */
const PERMISSION_ERROR = /NotCapable|PermissionDenied|Requires \w+ access/;

Deno.test("nms-server and nms-agent run from copies holding only what deno compile embeds, under their compiled permissions", async () => {
  const tasks = parseCompileTask(TASKS.compile ?? "");
  const server = tasks.find((c) => c.entry === "server/main.ts");
  const agent = tasks.find((c) => c.entry === "agent/main.ts");
  assert.ok(server, "no deno compile command for server/main.ts");
  assert.ok(agent, "no deno compile command for agent/main.ts");
  const serverDir = await copyOf(await embedded(server));
  const agentDir = await copyOf(await embedded(agent));
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const run = async (dir: string, permissions: readonly string[], args: string[], env = {}) => {
    const output = await command(dir, permissions, args, env).output();
    const stderr = decode(output.stderr);
    assert.doesNotMatch(stderr, PERMISSION_ERROR, `${args.join(" ")}: ${stderr}`);
    return { code: output.code, stdout: decode(output.stdout), stderr };
  };
  try {
    const serverMain = "server/main.ts";
    const version = await run(serverDir, server.permissions, [serverMain, "--version"]);
    assert.match(version.stdout, /^nms-server \S+ \(commit \S+\)\n$/);
    assert.equal(
      (await run(serverDir, server.permissions, [serverMain, "serve", "--help"])).code,
      0,
    );

    // A configuration file (the YAML parser reads environment variables of its own).
    const db = join(serverDir, "data", "nms.db");
    const config = join(serverDir, "nms-server.yaml");
    await Deno.writeTextFile(
      config,
      `host: 127.0.0.1\nport: 0\nhttp-port: 0\nworkers: 1\ndb: ${db}\nlog-level: info\n`,
    );
    const checked = await run(serverDir, server.permissions, [
      serverMain,
      "config",
      "check",
      "--config",
      config,
    ], { NMS_LOG_FORMAT: "text" });
    assert.equal(checked.code, 0, checked.stderr);

    const serve = spawnCopy(serverDir, server.permissions, [
      serverMain,
      "serve",
      "--config",
      config,
    ], { NMS_ADMIN_PASSWORD: "admin-password" });
    let agentRun: ReturnType<typeof spawnCopy> | undefined;
    try {
      await waitFor(() => /Listening for agents|error/i.test(serve.stderr()), {
        timeoutMs: START_TIMEOUT_MS,
      });
      const port = /Listening for agents address=127\.0\.0\.1:(\d+)/.exec(serve.stderr())?.[1];
      assert.ok(port, serve.stderr());
      // The console's pages come from the embedded assets.
      const url = /Web console listening url=(\S+)/.exec(serve.stderr())?.[1];
      assert.ok(url, serve.stderr());
      const page = await fetch(new URL("/login", url));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const style = await fetch(new URL("/static/style.css", url));
      assert.equal(style.status, 200);
      await style.body?.cancel();
      const health = await fetch(new URL("/healthz", url));
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const metrics = await fetch(new URL("/metrics", url), {
        headers: { authorization: `Basic ${btoa("admin:admin-password")}` },
      });
      assert.match(await metrics.text(), /^process_resident_memory_bytes \d+$/m);

      // The agent, from its own copy, with a configuration file, ships a line.
      const agentMain = "agent/main.ts";
      const agentVersion = await run(agentDir, agent.permissions, [agentMain, "--version"]);
      assert.match(agentVersion.stdout, /^nms-agent \S+ \(commit \S+/);
      assert.equal((await run(agentDir, agent.permissions, [agentMain, "run", "--help"])).code, 0);
      const followed = join(agentDir, "app.log");
      await Deno.writeTextFile(followed, "");
      const agentConfig = join(agentDir, "nms-agent.yaml");
      await Deno.writeTextFile(
        agentConfig,
        `server: 127.0.0.1:${port}\nuser: admin\npath: [${followed}]\nstate-dir: ${
          join(agentDir, "state")
        }\n`,
      );
      agentRun = spawnCopy(agentDir, agent.permissions, [
        agentMain,
        "run",
        "--config",
        agentConfig,
      ], { NMS_PASSWORD: "admin-password" });
      await waitFor(() => /state=connected|error/i.test(agentRun!.stderr()), {
        timeoutMs: START_TIMEOUT_MS,
        message: "the agent to connect",
      });
      await Deno.writeTextFile(followed, "compiled permissions are enough\n", { append: true });
      await waitFor(async () => {
        const logs = await run(serverDir, server.permissions, [
          serverMain,
          "logs",
          "--db",
          db,
          "--json",
        ]);
        return logs.stdout.includes("compiled permissions are enough");
      }, { timeoutMs: START_TIMEOUT_MS, message: "the agent's line in the database" });

      // The backup's worker, under the same permissions.
      const backup = await run(serverDir, server.permissions, [
        serverMain,
        "backup",
        join(serverDir, "copy.db"),
        "--db",
        db,
      ]);
      assert.equal(backup.code, 0, backup.stderr);
    } finally {
      const agentCode: number | undefined = await agentRun?.stop();
      const serverCode = await serve.stop();
      assert.doesNotMatch(serve.stderr(), PERMISSION_ERROR, serve.stderr());
      assert.doesNotMatch(agentRun?.stderr() ?? "", PERMISSION_ERROR, agentRun?.stderr());
      assert.equal(serverCode, 0, serve.stderr());
      if (agentRun) assert.equal(agentCode, 0, agentRun.stderr());
    }
  } finally {
    await Deno.remove(serverDir, { recursive: true });
    await Deno.remove(agentDir, { recursive: true });
  }
});

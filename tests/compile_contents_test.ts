/**
 * `deno compile` embeds the module graph of its entry point plus what
 * `--include` names, nothing else (issue 10). The compile runtime cannot be
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
}

/** Flags of `deno compile` that take a value as the next word. */
const VALUE_FLAGS = new Set(["--target", "-o", "--output", "--include", "--exclude", "--icon"]);

function parseCompileTask(task: string): CompileCommand[] {
  const commands: CompileCommand[] = [];
  for (const part of task.split(/&&|;/)) {
    const words = part.trim().split(/\s+/);
    if (words[0] !== "deno" || words[1] !== "compile") continue;
    let entry = "";
    let output = "";
    let target: string | undefined;
    const includes: string[] = [];
    for (let i = 2; i < words.length && entry === ""; i++) {
      const word = words[i]!;
      const [flag, inline] = word.startsWith("--") && word.includes("=")
        ? [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)]
        : [word, undefined];
      if (VALUE_FLAGS.has(flag)) {
        const value = inline ?? words[++i] ?? "";
        if (flag === "--include") includes.push(relative(ROOT, resolve(ROOT, value)));
        else if (flag === "--target") target = value;
        else if (flag === "-o" || flag === "--output") output = value;
      } else if (!word.startsWith("-")) {
        entry = relative(ROOT, resolve(ROOT, word));
      }
    }
    commands.push({ entry, output, target, includes });
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

function command(dir: string, args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--frozen", "--config", join(dir, "deno.json"), ...args],
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

Deno.test("nms-server runs from a copy holding only what deno compile embeds", async () => {
  const server = parseCompileTask(TASKS.compile ?? "").find((c) => c.entry === "server/main.ts");
  assert.ok(server, "no deno compile command for server/main.ts");
  const dir = await copyOf(await embedded(server));
  try {
    const version = await command(dir, ["server/main.ts", "--version"]).output();
    assert.match(new TextDecoder().decode(version.stdout), /^nms-server \S+ \(commit \S+\)\n$/);

    const process = command(dir, [
      "server/main.ts",
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--http-port",
      "0",
      "--workers",
      "1",
      "--db",
      join(dir, "data", "nms.db"),
    ], { NMS_ADMIN_PASSWORD: "admin-password" }).spawn();
    let stderr = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of process.stderr) stderr += decoder.decode(chunk, { stream: true });
    })();
    try {
      await waitFor(() => stderr.includes("Listening for agents") || stderr.includes("error"), {
        timeoutMs: START_TIMEOUT_MS,
      });
      assert.match(stderr, /Listening for agents/, stderr);
      // The console's pages come from the embedded assets.
      const url = /Web console listening url=(\S+)/.exec(stderr)?.[1];
      assert.ok(url, stderr);
      const page = await fetch(new URL("/login", url));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const style = await fetch(new URL("/static/style.css", url));
      assert.equal(style.status, 200);
      await style.body?.cancel();
      const health = await fetch(new URL("/healthz", url));
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      process.kill("SIGTERM");
      await process.status;
      await process.stdout.cancel();
      await reading;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nms-agent runs from a copy holding only what deno compile embeds", async () => {
  const agent = parseCompileTask(TASKS.compile ?? "").find((c) => c.entry === "agent/main.ts");
  assert.ok(agent, "no deno compile command for agent/main.ts");
  const dir = await copyOf(await embedded(agent));
  try {
    const result = await command(dir, ["agent/main.ts", "--version"]).output();
    const text = new TextDecoder().decode(result.stdout);
    assert.ok(result.success, new TextDecoder().decode(result.stderr));
    assert.match(text, /^nms-agent \S+ \(commit \S+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

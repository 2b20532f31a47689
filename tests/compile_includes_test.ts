/**
 * `deno compile` bundles only the static module graph of its entry point:
 * Worker modules and files loaded at run time are left out unless named with
 * `--include` (PLATFORM-NOTES.md). A binary missing one starts and then fails
 * at the first LOGIN. The compile runtime cannot be downloaded here, so this
 * test checks the sources against the `compile` task of deno.json instead:
 *
 * 1. every Worker entry module (`/// <reference lib="deno.worker" />` or a
 *    `self.onmessage` handler) is included in the binary of its folder;
 * 2. every `new URL("<path>", import.meta.url)` target (Workers, assets) is
 *    included, itself or through a directory;
 * 3. every file of a `static/` asset directory is either imported (e.g. as a
 *    text module, `with { type: "text" }`, which puts it in the module graph)
 *    or included;
 * 4. every `--include` path exists.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** One `deno compile` command of the task. */
interface CompileCommand {
  /** Entry module, relative to the root, e.g. `server/main.ts`. */
  readonly entry: string;
  /** Output binary, e.g. `dist/nms-server`. */
  readonly output: string;
  /** `--include` paths, relative to the root, normalized (no `./`, no trailing `/`). */
  readonly includes: readonly string[];
}

function normalize(path: string): string {
  return relative(ROOT, resolve(ROOT, path));
}

/**
 * Parses a `compile` task made of `deno compile ...` commands joined by `&&`.
 *
 * @param task The task string.
 * @returns One entry per `deno compile` command.
 */
function parseCompileTask(task: string): CompileCommand[] {
  const commands: CompileCommand[] = [];
  for (const part of task.split(/&&|;/)) {
    // The shell's single quotes (around a glob such as NMS_*) are not part of a word.
    const words = part.trim().split(/\s+/).map((word) => word.replace(/^'(.*)'$/, "$1"));
    if (words[0] !== "deno" || words[1] !== "compile") continue;
    const includes: string[] = [];
    let output = "";
    let entry = "";
    for (let i = 2; i < words.length; i++) {
      const word = words[i]!;
      if (word === "--include") includes.push(normalize(words[++i] ?? ""));
      else if (word.startsWith("--include=")) includes.push(normalize(word.slice(10)));
      else if (word === "-o" || word === "--output") output = words[++i] ?? "";
      else if (word.startsWith("--output=")) output = word.slice(9);
      else if (!word.startsWith("-") && entry === "") entry = normalize(word);
      // Anything after the entry is an argument of the compiled program.
      else if (!word.startsWith("-")) break;
    }
    commands.push({ entry, output, includes });
  }
  return commands;
}

/** Whether `path` is one of `includes` or inside an included directory. */
function isIncluded(path: string, includes: readonly string[]): boolean {
  return includes.some((inc) => path === inc || path.startsWith(inc + "/"));
}

/** Source files (not tests or benchmarks) under `dir`, relative to the root. */
async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string) => {
    try {
      for await (const entry of Deno.readDir(join(ROOT, path))) {
        const child = `${path}/${entry.name}`;
        if (entry.isDirectory) await walk(child);
        else if (/\.(m?ts|tsx|m?js)$/.test(entry.name) && !/_(test|bench)\.\w+$/.test(entry.name)) {
          found.push(child);
        }
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  };
  await walk(dir);
  return found;
}

/** Files inside directories named `static` under `dir`, relative to the root. */
async function staticFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string, inStatic: boolean) => {
    try {
      for await (const entry of Deno.readDir(join(ROOT, path))) {
        const child = `${path}/${entry.name}`;
        if (entry.isDirectory) await walk(child, inStatic || entry.name === "static");
        else if (inStatic) found.push(child);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  };
  await walk(dir, false);
  return found;
}

const WORKER_ENTRY = /^\s*\/\/\/\s*<reference\s+lib="deno\.worker"\s*\/>|^\s*self\.onmessage\s*=/m;
const URL_REFERENCE = /\bnew\s+URL\s*\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g;
/** Static and side-effect imports (text and bytes imports included): these are in the graph. */
const IMPORT_REFERENCE = /^[ \t]*(?:import|export)\b[^;'"`]*?["']([^"']+)["']/gm;

/**
 * Lists what a binary needs that its `--include`s do not cover.
 *
 * @param files Source text by path relative to the root.
 * @param command The compile command of the binary these files belong to.
 * @param assets Files of the `static/` directories of the binary's folder.
 * @returns One message per missing include.
 */
function missingIncludes(
  files: ReadonlyMap<string, string>,
  command: CompileCommand,
  assets: readonly string[] = [],
): string[] {
  const missing: string[] = [];
  const imported = new Set<string>();
  for (const [file, text] of files) {
    // Examples in JSDoc are not code: blank out block comments.
    const source = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
    if (WORKER_ENTRY.test(source) && !isIncluded(file, command.includes)) {
      missing.push(`${file} is a Worker entry module`);
    }
    for (const match of source.matchAll(URL_REFERENCE)) {
      const spec = match[1]!;
      if (!spec.startsWith("./") && !spec.startsWith("../")) continue;
      const target = normalize(join(dirname(file), spec));
      if (!isIncluded(target, command.includes)) {
        missing.push(`${target} is loaded by ${file} through new URL(${JSON.stringify(spec)})`);
      }
    }
    for (const match of source.matchAll(IMPORT_REFERENCE)) {
      const spec = match[1]!;
      if (spec.startsWith("./") || spec.startsWith("../")) {
        imported.add(normalize(join(dirname(file), spec)));
      }
    }
  }
  for (const asset of assets) {
    if (!imported.has(asset) && !isIncluded(asset, command.includes)) {
      missing.push(`${asset} is an asset that no module imports`);
    }
  }
  return [...new Set(missing)];
}

async function readAll(paths: readonly string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const path of paths) files.set(path, await Deno.readTextFile(join(ROOT, path)));
  return files;
}

const TASK: string = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks?.compile ??
  "";

Deno.test("deno.json compile task builds nms-server and nms-agent from their main.ts", () => {
  const commands = parseCompileTask(TASK);
  assert.deepEqual(
    commands.map((c) => [c.entry, c.output]),
    [["server/main.ts", "dist/nms-server"], ["agent/main.ts", "dist/nms-agent"]],
  );
});

for (const binary of ["server", "agent"] as const) {
  Deno.test(`deno.json compile task --includes every Worker module and asset of ${binary}/`, async () => {
    const command = parseCompileTask(TASK).find((c) => c.entry.startsWith(`${binary}/`));
    assert.ok(command, `no deno compile command for ${binary}/ in: ${TASK}`);
    const files = await readAll(await sourceFiles(binary));
    const missing = missingIncludes(files, command, await staticFiles(binary));
    assert.deepEqual(
      missing,
      [],
      `Add --include for these to the "compile" task of deno.json:\n  ${missing.join("\n  ")}`,
    );
  });
}

Deno.test("deno.json compile task --includes only paths that exist", async () => {
  for (const command of parseCompileTask(TASK)) {
    for (const include of command.includes) {
      await Deno.stat(join(ROOT, include)).catch(() => {
        assert.fail(`--include ${include} of ${command.output} does not exist`);
      });
    }
  }
});

// --- the checker itself, on synthetic input -----------------------------------------

Deno.test("parseCompileTask() reads entry, output and includes of each command", () => {
  assert.deepEqual(
    parseCompileTask(
      "deno compile -A --include ./server/w.ts --include=server/static/ -o dist/a server/main.ts serve && deno compile --output dist/b agent/main.ts",
    ),
    [
      { entry: "server/main.ts", output: "dist/a", includes: ["server/w.ts", "server/static"] },
      { entry: "agent/main.ts", output: "dist/b", includes: [] },
    ],
  );
});

Deno.test("missingIncludes() reports a Worker module, URL target or asset left out of the binary", () => {
  const files = new Map([
    ["server/pool.ts", 'new Worker(new URL("./w.ts", import.meta.url).href, { type: "module" });'],
    ["server/w.ts", '/// <reference lib="deno.worker" />\nself.onmessage = () => {};'],
    ["server/assets.ts", 'await Deno.readFile(new URL("./static/app.js", import.meta.url));'],
    ["server/page.ts", 'import page from "./static/index.html" with { type: "text" };'],
    ["server/doc.ts", '/**\n * new Worker(new URL("./example.ts", import.meta.url));\n */'],
  ]);
  const assets = ["server/static/app.js", "server/static/index.html", "server/static/extra.css"];
  const none = { entry: "server/main.ts", output: "dist/a", includes: [] };
  assert.deepEqual(missingIncludes(files, none, assets), [
    'server/w.ts is loaded by server/pool.ts through new URL("./w.ts")',
    "server/w.ts is a Worker entry module",
    'server/static/app.js is loaded by server/assets.ts through new URL("./static/app.js")',
    "server/static/app.js is an asset that no module imports",
    "server/static/extra.css is an asset that no module imports",
  ]);
  const all = { ...none, includes: ["server/w.ts", "server/static"] };
  assert.deepEqual(missingIncludes(files, all, assets), []);
});

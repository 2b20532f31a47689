/**
 * The dependency rule (STYLE.md practice 2, docs/ARCHITECTURE.md):
 *
 * ```
 * protocol/, common/  ←  server/
 * protocol/, common/  ←  agent/
 * ```
 *
 * `protocol/` and `common/` import nothing of the project outside themselves
 * (only `node:` and `npm:` modules), and `server/` and `agent/` never import
 * each other. Inside them, folders keep their insides to themselves:
 *
 * - a `_`-prefixed file is imported only from its own folder;
 * - a Worker module (`/// <reference lib="deno.worker" />` or `self.onmessage`)
 *   is loaded only from its own folder (the ingest workers only by
 *   `server/ingest/`);
 * - every folder of `server/` has a `mod.ts`, and the server's root files and
 *   the folders of the ingest path (`ingest/`, `agent_port/`, `cli/`,
 *   `syslog/`) reach another folder only through its `mod.ts`;
 * - a sub-folder of `agent/` (`follow/`, `sources/`, `journal/`,
 *   `checkpoint/`, `cli/`) is reached from outside only through its `mod.ts`
 *   (or by a dynamic `import()`, which keeps a file off the start-up path).
 *
 * This test scans the import and export specifiers (and
 * `new URL(..., import.meta.url)` references, which is how Workers and assets
 * are loaded) of every `.ts` file in those folders, resolves relative ones,
 * and fails on any edge that breaks a rule.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Top-level folders whose code the rule governs. */
const LAYERS = ["protocol", "common", "server", "agent"] as const;
type Layer = typeof LAYERS[number];

/** What each layer may not depend on. */
const FORBIDDEN: Record<Layer, readonly string[]> = {
  protocol: ["common", "server", "agent", "tests", "<root>", "<outside>"],
  common: ["protocol", "server", "agent", "tests", "<root>", "<outside>"],
  server: ["agent"],
  agent: ["server"],
};

/** One reference from a file to a module. */
interface Reference {
  readonly specifier: string;
  readonly line: number;
  /** A dynamic `import()`, loaded only when that code runs. */
  readonly dynamic: boolean;
}

/** A reference that breaks the rule. */
interface Violation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly why: string;
}

/**
 * Static `import`/`export ... from`, side-effect `import "x"`, dynamic
 * `import("x")` and `new URL("x", import.meta.url)`. Statements must start a
 * line, so examples inside JSDoc (` * import ...`) are not matched.
 */
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;
const PATTERNS: readonly RegExp[] = [
  /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*["']([^"']+)["']/gm,
  /^[ \t]*import\s*["']([^"']+)["']/gm,
  DYNAMIC_IMPORT,
  /\bnew\s+URL\s*\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
];

/**
 * Finds every module reference in a source text.
 *
 * @param source TypeScript source.
 * @returns The specifiers with their line numbers, in order of appearance.
 */
function findReferences(source: string): Reference[] {
  // Blank out comments so commented-out code and prose are ignored; keep line breaks.
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "))
    .replace(/^([ \t]*)\/\/.*$/gm, "$1");
  const found: { specifier: string; index: number; dynamic: boolean }[] = [];
  for (const pattern of PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      found.push({
        specifier: match[1]!,
        index: match.index + match[0].indexOf(match[1]!),
        dynamic: pattern === DYNAMIC_IMPORT,
      });
    }
  }
  return found.sort((a, b) => a.index - b.index).map(({ specifier, index, dynamic }) => ({
    specifier,
    line: code.slice(0, index).split("\n").length,
    dynamic,
  }));
}

/** The import map of deno.json, for bare specifiers such as `commander`. */
const IMPORT_MAP: Record<string, string> =
  JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).imports ?? {};

/** Maps a bare specifier through the import map; others are returned unchanged. */
function mapped(specifier: string): string {
  if (specifier in IMPORT_MAP) return IMPORT_MAP[specifier]!;
  for (const [key, target] of Object.entries(IMPORT_MAP)) {
    if (key.endsWith("/") && specifier.startsWith(key)) {
      return target + specifier.slice(key.length);
    }
  }
  return specifier;
}

/**
 * Names the layer a reference lands in: a top-level folder, `<root>` for a
 * file at the repository root, `<outside>` for a path outside the repository,
 * `<builtin>` for `node:`/`npm:` modules, or `<remote>` for anything else.
 */
function targetOf(fromFile: string, specifier: string): string {
  const spec = mapped(specifier);
  if (spec.startsWith("node:") || spec.startsWith("npm:")) return "<builtin>";
  let path: string;
  if (spec.startsWith("./") || spec.startsWith("../")) {
    path = resolve(dirname(join(ROOT, fromFile)), spec);
  } else if (spec.startsWith("file:")) {
    path = fileURLToPath(spec);
  } else if (spec.startsWith("/")) {
    path = spec;
  } else {
    return "<remote>"; // jsr:, https:, or an unmapped bare name
  }
  const rel = relative(ROOT, path);
  if (rel.startsWith("..") || resolve(ROOT, rel) !== path) return "<outside>";
  const parts = rel.split(sep);
  return parts.length === 1 ? "<root>" : parts[0]!;
}

/**
 * Checks files against the rule.
 *
 * @param files Source text by path relative to the repository root, `/`-separated.
 * @returns Every violating reference.
 */
function findViolations(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    const layer = file.split("/")[0] as Layer;
    if (!LAYERS.includes(layer)) continue;
    for (const { specifier, line } of findReferences(source)) {
      const target = targetOf(file, specifier);
      if (layer === "protocol" && target === "<remote>") {
        violations.push({ file, line, specifier, why: "protocol/ may only import node: and npm:" });
      } else if (FORBIDDEN[layer].includes(target)) {
        violations.push({ file, line, specifier, why: `${layer}/ must not depend on ${target}` });
      }
    }
  }
  return violations;
}

/**
 * The file a relative specifier names, relative to the root and
 * `/`-separated, or null for anything else (packages, remote modules).
 */
function resolvedPath(fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return null;
  const path = resolve(dirname(join(ROOT, fromFile)), specifier);
  return relative(ROOT, path).split(sep).join("/");
}

/** The folder of a file, e.g. `server/ingest` for `server/ingest/writer.ts`. */
function folderOf(file: string): string {
  return file.slice(0, Math.max(0, file.lastIndexOf("/")));
}

/** Whether a file is a Worker entry module. */
function isWorkerModule(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "");
  return /^\s*\/\/\/\s*<reference\s+lib="deno\.worker"\s*\/>|^\s*self\.onmessage\s*=/m.test(code);
}

/**
 * Files whose imports into another server/ folder must go through that
 * folder's `mod.ts`: the root files and the folders of the ingest path. Test
 * files may reach further (fixtures such as `store/store_conformance.ts`).
 */
function importsOnlyThroughMod(file: string): boolean {
  if (/_test\.ts$/.test(file)) return false;
  const folder = folderOf(file);
  return folder === "server" ||
    ["server/ingest", "server/agent_port", "server/cli", "server/syslog"].includes(folder);
}

/**
 * Whether `file` reaches into a sub-folder of `agent/` (`agent/follow/…`)
 * from outside it, other than through its `mod.ts`.
 */
function agentSubfolderAround(file: string, target: string): boolean {
  const parts = target.split("/");
  if (parts[0] !== "agent" || parts.length < 3) return false;
  const subfolder = `${parts[0]}/${parts[1]}`;
  return !file.startsWith(`${subfolder}/`) && parts.slice(2).join("/") !== "mod.ts";
}

/**
 * Checks the rules inside the layers: private files, Worker modules, and
 * entry through `mod.ts`.
 *
 * @param files Source text by path relative to the repository root, `/`-separated.
 * @returns Every violating reference.
 */
function findFolderViolations(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    if (!LAYERS.includes(file.split("/")[0] as Layer)) continue;
    for (const { specifier, line, dynamic } of findReferences(source)) {
      const target = resolvedPath(file, specifier);
      if (target === null || !files.has(target)) continue;
      const home = folderOf(target);
      const inside = folderOf(file) === home || folderOf(file).startsWith(home + "/");
      const name = target.slice(home.length + 1);
      const fail = (why: string) => violations.push({ file, line, specifier, why });
      if (!inside && name.startsWith("_")) {
        fail(`${target} is private to ${home}/`);
      } else if (!inside && isWorkerModule(files.get(target)!)) {
        fail(`${target} is a Worker module: only ${home}/ starts it`);
      } else if (
        !inside && home.startsWith("server/") && name !== "mod.ts" && importsOnlyThroughMod(file)
      ) {
        fail(`${home}/ is entered through its mod.ts`);
      } else if (agentSubfolderAround(file, target) && !dynamic) {
        // A dynamic import() may name a file, to keep it off the start-up path.
        fail(`${target.split("/").slice(0, 2).join("/")}/ is entered through its mod.ts`);
      }
    }
  }
  return violations;
}

/**
 * Folders of `server/` without a `mod.ts` (the browser files in `static/`
 * aside).
 *
 * @param files Paths relative to the repository root, `/`-separated.
 * @returns The folders.
 */
function foldersWithoutMod(files: Iterable<string>): string[] {
  const folders = new Set<string>();
  const mods = new Set<string>();
  for (const file of files) {
    if (!file.startsWith("server/")) continue;
    const folder = folderOf(file);
    if (folder === "server" || folder.split("/").includes("static")) continue;
    folders.add(folder);
    if (file.endsWith("/mod.ts")) mods.add(folder);
  }
  return [...folders].filter((folder) => !mods.has(folder)).sort();
}

/** Every `.ts` file under the layer folders, by relative path. */
async function readSources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(join(ROOT, dir))) entries.push(entry);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && entry.name !== "node_modules") await walk(path);
      else if (entry.isFile && /\.(m?ts|tsx)$/.test(entry.name)) {
        files.set(path, await Deno.readTextFile(join(ROOT, path)));
      }
    }
  }
  for (const layer of LAYERS) await walk(layer);
  return files;
}

Deno.test("layering: protocol/ imports nothing else from the project, server/ and agent/ never each other", async () => {
  const sources = await readSources();
  assert.ok(sources.size > 10, `found only ${sources.size} source files under ${ROOT}`);
  const violations = findViolations(sources);
  assert.deepEqual(
    violations,
    [],
    "Dependency rule broken (see docs/ARCHITECTURE.md):\n" +
      violations.map((v) => `  ${v.file}:${v.line} imports "${v.specifier}": ${v.why}`).join("\n"),
  );
});

Deno.test("layering: private files and Worker modules stay in their folder; server/ folders are entered through mod.ts", async () => {
  const sources = await readSources();
  const violations = findFolderViolations(sources);
  assert.deepEqual(
    violations,
    [],
    "Folder rule broken (see docs/ARCHITECTURE.md):\n" +
      violations.map((v) => `  ${v.file}:${v.line} imports "${v.specifier}": ${v.why}`).join("\n"),
  );
});

Deno.test("layering: every folder of server/ has a mod.ts", async () => {
  assert.deepEqual(foldersWithoutMod((await readSources()).keys()), []);
});

Deno.test("layering: server/ and agent/ do use protocol/", async () => {
  const sources = await readSources();
  const uses = (layer: Layer) =>
    [...sources].some(([file, source]) =>
      file.startsWith(`${layer}/`) &&
      findReferences(source).some((r) => targetOf(file, r.specifier) === "protocol")
    );
  assert.ok(uses("server"), "no server/ file imports protocol/: is the scanner broken?");
  assert.ok(uses("agent"), "no agent/ file imports protocol/: is the scanner broken?");
});

// --- the checker itself, on synthetic sources ------------------------------------

function check(file: string, source: string): string[] {
  return findViolations(new Map([[file, source]])).map((v) => `${v.line}:${v.specifier}`);
}

Deno.test("layering check flags protocol/ importing server/, agent/, tests/ or the root", () => {
  assert.deepEqual(check("protocol/a.ts", `import { x } from "../server/mod.ts";`), [
    "1:../server/mod.ts",
  ]);
  assert.deepEqual(check("protocol/a.ts", `\nexport * from "../agent/client.ts";`), [
    "2:../agent/client.ts",
  ]);
  assert.deepEqual(check("protocol/sub/a.ts", `import "../../tests/_harness/x.ts";`), [
    "1:../../tests/_harness/x.ts",
  ]);
  assert.deepEqual(check("protocol/a.ts", `import type { T } from "../mod.ts";`), ["1:../mod.ts"]);
  assert.deepEqual(check("protocol/a.ts", `const m = await import("../server/x.ts");`), [
    "1:../server/x.ts",
  ]);
});

Deno.test("layering check flags protocol/ importing remote or unmapped modules", () => {
  assert.deepEqual(check("protocol/a.ts", `import { x } from "jsr:@std/streams";`), [
    "1:jsr:@std/streams",
  ]);
  assert.deepEqual(check("protocol/a.ts", `import x from "https://deno.land/x/y.ts";`), [
    "1:https://deno.land/x/y.ts",
  ]);
  assert.deepEqual(check("protocol/a.ts", `import x from "left-pad";`), ["1:left-pad"]);
});

Deno.test("layering check allows protocol/ to import itself, node: and npm: modules", () => {
  const source = [
    `import { a } from "./codec.ts";`,
    `import type { B } from "./sub/../commands.ts";`,
    `import { Buffer } from "node:buffer";`,
    `import x from "npm:some-package@1";`,
    `import { Command } from "commander";`, // mapped to npm: by deno.json
  ].join("\n");
  assert.deepEqual(check("protocol/a.ts", source), []);
});

Deno.test("layering check flags server/ and agent/ importing each other", () => {
  assert.deepEqual(check("server/a.ts", `import { runAgent } from "../agent/mod.ts";`), [
    "1:../agent/mod.ts",
  ]);
  assert.deepEqual(
    check("agent/deep/a.ts", `import {\n  startServer,\n} from "../../server/server.ts";`),
    ["3:../../server/server.ts"],
  );
  assert.deepEqual(
    check("server/a.ts", `new Worker(new URL("../agent/w.ts", import.meta.url), {});`),
    ["1:../agent/w.ts"],
  );
  assert.deepEqual(check("server/a.ts", `import { x } from "../protocol/mod.ts";`), []);
  assert.deepEqual(check("agent/a.ts", `import { x } from "../protocol/mod.ts";`), []);
});

Deno.test("layering check ignores examples in comments", () => {
  const source = [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { startServer } from "../server/mod.ts";',
    " * ```",
    " */",
    '// import { x } from "../agent/mod.ts";',
    "export const a = 1;",
  ].join("\n");
  assert.deepEqual(check("protocol/a.ts", source), []);
});

function checkFolders(files: Record<string, string>): string[] {
  return findFolderViolations(new Map(Object.entries(files))).map((v) =>
    `${v.file}:${v.line}:${v.specifier}`
  );
}

Deno.test("folder check flags a private file imported from outside its folder", () => {
  const files = {
    "server/store/_rows.ts": "export const a = 1;",
    "server/store/sqlite_store.ts": 'import { a } from "./_rows.ts";',
    "server/dashboard/api.ts": 'import { a } from "../store/_rows.ts";',
  };
  assert.deepEqual(checkFolders(files), ["server/dashboard/api.ts:1:../store/_rows.ts"]);
});

Deno.test("folder check flags a Worker module loaded from outside its folder", () => {
  const files = {
    "server/ingest/writer_worker.ts":
      '/// <reference lib="deno.worker" />\nself.onmessage = () => {};',
    "server/ingest/writer.ts": 'new Worker(new URL("./writer_worker.ts", import.meta.url));',
    "server/server.ts": 'new Worker(new URL("./ingest/writer_worker.ts", import.meta.url));',
  };
  assert.deepEqual(checkFolders(files), ["server/server.ts:1:./ingest/writer_worker.ts"]);
});

Deno.test("folder check makes the root and the ingest path enter other server/ folders through mod.ts", () => {
  const files = {
    "server/ingest/mod.ts": 'export * from "./writer.ts";',
    "server/ingest/writer.ts": "export const a = 1;",
    "server/server.ts":
      'import { a } from "./ingest/writer.ts";\nimport { b } from "./ingest/mod.ts";',
    "server/agent_port/connection.ts": 'import { a } from "../ingest/writer.ts";',
    "server/agent_port/connection_test.ts": 'import { a } from "../ingest/writer.ts";',
    "server/dashboard/api.ts": 'import { a } from "../ingest/writer.ts";',
  };
  assert.deepEqual(checkFolders(files), [
    "server/server.ts:1:./ingest/writer.ts",
    "server/agent_port/connection.ts:1:../ingest/writer.ts",
  ]);
});

Deno.test("folder check finds server/ folders without a mod.ts", () => {
  assert.deepEqual(
    foldersWithoutMod([
      "server/server.ts",
      "server/ingest/mod.ts",
      "server/ingest/writer.ts",
      "server/auth/password.ts",
      "server/dashboard/mod.ts",
      "server/dashboard/static/app.js",
    ]),
    ["server/auth"],
  );
});

Deno.test("folder check makes agent/'s sub-folders entered through their mod.ts", () => {
  const files = {
    "agent/follow/mod.ts": 'export * from "./file_follower.ts";',
    "agent/follow/file_follower.ts": 'import { b } from "./incarnation.ts";',
    "agent/follow/incarnation.ts": "export const b = 1;",
    "agent/journal/a.ts": "export type T = number;",
    "agent/cli/program.ts": "export const p = 1;",
    "agent/agent.ts": 'import { a } from "./follow/file_follower.ts";\n' +
      'import { m } from "./follow/mod.ts";',
    "agent/sources/s.ts": 'import type { T } from "../journal/a.ts";',
    "agent/main.ts": 'const m = await import("./cli/program.ts");',
  };
  assert.deepEqual(checkFolders(files), [
    "agent/agent.ts:1:./follow/file_follower.ts",
    "agent/sources/s.ts:1:../journal/a.ts",
  ]);
});

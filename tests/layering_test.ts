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
 * each other. This test scans
 * the import and export specifiers (and `new URL(..., import.meta.url)`
 * references, which is how Workers and assets are loaded) of every `.ts` file
 * in those folders, resolves relative ones, and fails on any edge that breaks
 * the rule.
 *
 * Within the layers, folders keep their privates: a `_` file of `protocol/`,
 * `common/` or `agent/` is imported only from its own folder or a folder
 * below it, and a sub-folder of `agent/` (`follow/`, `sources/`, `journal/`,
 * `checkpoint/`, `cli/`) is imported from outside only through its `mod.ts`.
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

/** Layers whose `_` files must stay private to their folder (and its sub-folders). */
const PRIVATE_FILE_LAYERS: readonly Layer[] = ["protocol", "common", "agent"];

/** Layers whose sub-folders are reached from outside only through their `mod.ts`. */
const MOD_ONLY_LAYERS: readonly Layer[] = ["agent"];

/** The repository-relative path a relative specifier names, or undefined for any other. */
function resolvedPath(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  return relative(ROOT, resolve(dirname(join(ROOT, fromFile)), specifier)).split(sep).join("/");
}

/** Whether `file` lies in `folder` or one of its sub-folders. */
function isWithin(file: string, folder: string): boolean {
  return file.startsWith(`${folder}/`);
}

/**
 * Checks the folder rules: a `_` file is imported only from its own folder
 * (or a sub-folder of it), and in the layers of {@linkcode MOD_ONLY_LAYERS} a
 * sub-folder's files are imported from outside it only through its `mod.ts`
 * (a dynamic `import()` may name a file, to keep it off the start-up path).
 *
 * @param files Source text by path relative to the repository root, `/`-separated.
 * @returns Every violating reference.
 */
function findFolderViolations(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    const layer = file.split("/")[0] as Layer;
    if (!LAYERS.includes(layer)) continue;
    for (const { specifier, line, dynamic } of findReferences(source)) {
      const target = resolvedPath(file, specifier);
      if (target === undefined) continue;
      const targetLayer = target.split("/")[0] as Layer;
      const folder = target.slice(0, target.lastIndexOf("/"));
      const name = target.slice(target.lastIndexOf("/") + 1);
      if (
        PRIVATE_FILE_LAYERS.includes(targetLayer) && name.startsWith("_") &&
        !isWithin(file, folder)
      ) {
        violations.push({ file, line, specifier, why: `${name} is private to ${folder}/` });
        continue;
      }
      // The sub-folder of the layer the target is in, e.g. agent/follow.
      const parts = target.split("/");
      if (!MOD_ONLY_LAYERS.includes(targetLayer) || parts.length < 3 || dynamic) continue;
      const subfolder = `${parts[0]}/${parts[1]}`;
      if (!isWithin(file, subfolder) && parts.slice(2).join("/") !== "mod.ts") {
        violations.push({ file, line, specifier, why: `import ${subfolder}/mod.ts instead` });
      }
    }
  }
  return violations;
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

Deno.test("layering: _ files stay in their folder, and agent/'s sub-folders are used through their mod.ts", async () => {
  const sources = await readSources();
  const violations = findFolderViolations(sources);
  assert.deepEqual(
    violations,
    [],
    "Folder rule broken (see docs/ARCHITECTURE.md):\n" +
      violations.map((v) => `  ${v.file}:${v.line} imports "${v.specifier}": ${v.why}`).join("\n"),
  );
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

function checkFolders(file: string, source: string): string[] {
  return findFolderViolations(new Map([[file, source]])).map((v) => `${v.line}:${v.why}`);
}

Deno.test("folder check flags a _ file imported from outside its folder", () => {
  assert.deepEqual(
    checkFolders("agent/sources/a.ts", `import { x } from "../follow/_restore.ts";`),
    [
      "1:_restore.ts is private to agent/follow/",
    ],
  );
  assert.deepEqual(checkFolders("common/a.ts", `import { x } from "../protocol/_x.ts";`), [
    "1:_x.ts is private to protocol/",
  ]);
  // Its own folder and the folders below it may use it.
  assert.deepEqual(checkFolders("agent/follow/a.ts", `import { x } from "./_restore.ts";`), []);
  assert.deepEqual(checkFolders("agent/follow/a.ts", `import { x } from "../_wake.ts";`), []);
});

Deno.test("folder check flags an agent/ sub-folder reached around its mod.ts", () => {
  assert.deepEqual(
    checkFolders("agent/agent.ts", `import { x } from "./follow/file_follower.ts";`),
    [
      "1:import agent/follow/mod.ts instead",
    ],
  );
  assert.deepEqual(
    checkFolders("agent/sources/s.ts", `import type { T } from "../journal/a.ts";`),
    [
      "1:import agent/journal/mod.ts instead",
    ],
  );
  assert.deepEqual(checkFolders("agent/agent.ts", `import { x } from "./follow/mod.ts";`), []);
  assert.deepEqual(checkFolders("agent/follow/a.ts", `import { x } from "./incarnation.ts";`), []);
  // A dynamic import() may load a file directly, off the start-up path.
  assert.deepEqual(
    checkFolders("agent/main.ts", `const m = await import("./cli/program.ts");`),
    [],
  );
});

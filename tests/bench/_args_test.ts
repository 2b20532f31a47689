import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runScript, type ScriptResult } from "../_harness/run_script.ts";
import { usageOf } from "./_args.ts";

/** Every part `deno task bench` runs, and the bench itself. */
const PARTS = [
  "main.ts",
  "ingest.ts",
  "agent.ts",
  "flood.ts",
  "fleet.ts",
  "search.ts",
  "console.ts",
  "syslog.ts",
  "compare_syslog.ts",
  "postgres.ts",
];

function run(part: string, args: string[]): Promise<ScriptResult> {
  return runScript(fileURLToPath(new URL(part, import.meta.url)), args);
}

Deno.test("usageOf() takes the Usage paragraph of a module comment, continuation lines included", () => {
  const source = [
    "/**",
    " * A benchmark.",
    " *",
    " * Usage: deno run -A x.ts [--events N]",
    " *          [--runs R]",
    " *",
    " * Prints a table.",
    " */",
  ].join("\n");
  assert.equal(usageOf(source), "Usage: deno run -A x.ts [--events N]\n         [--runs R]");
  assert.equal(usageOf("// nothing here\n"), "");
});

Deno.test("each benchmark part prints its usage for --help and exits 0", async () => {
  await Promise.all(PARTS.map(async (part) => {
    const { code, stdout, stderr } = await run(part, ["--help"]);
    assert.equal(code, 0, `${part}: ${stderr}`);
    assert.match(stdout, /^Usage: deno (run -A tests\/bench\/|task bench)/, part);
  }));
});

Deno.test("a benchmark part refuses an unknown option or a bad number with one line and exit code 2", async () => {
  const cases: [string, string[], RegExp][] = [
    ["ingest.ts", ["--bogus"], /^error: Unknown option '--bogus' \(see --help\)\n$/],
    [
      "ingest.ts",
      ["--events", "abc"],
      /^error: --events expects a whole number of at least 1, got "abc"/,
    ],
    ["ingest.ts", ["--workers", "1,x"], /^error: --workers expects a whole number/],
    ["ingest.ts", ["--rules", "maybe"], /^error: --rules expects on or off, got "maybe"/],
    ["syslog.ts", ["--sync", "off"], /^error: --sync expects full or normal, got "off"/],
    ["flood.ts", ["--seconds", "0.5x"], /^error: --seconds expects a number of at least 1/],
    ["fleet.ts", ["--agents", "0"], /^error: --agents expects a whole number of at least 1/],
    ["main.ts", ["--events", "1"], /^error: Unknown option '--events'/],
    [
      "ingest.ts",
      ["--text-index-max-catchup", "2s"],
      /^error: --text-index-max-catchup expects a number/,
    ],
    ["syslog.ts", ["--workers", "two"], /^error: --workers expects a whole number of at least 1/],
    [
      "postgres.ts",
      ["--store", "mysql://x"],
      /^error: --store expects a postgres:\/\/user@host:port\/db URL, got "mysql:\/\/x"/,
    ],
  ];
  for (const [part, args, expected] of cases) {
    const { code, stdout, stderr } = await run(part, args);
    assert.equal(code, 2, `${part} ${args.join(" ")}`);
    assert.equal(stdout, "");
    assert.match(stderr, expected);
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  }
});

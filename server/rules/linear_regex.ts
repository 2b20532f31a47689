/**
 * Regular expressions that cannot stall the server. Log lines are attacker
 * controlled, so every regex a rule runs must take time linear in the line
 * (docs/decisions/0016-linear-time-regex.md):
 *
 * - at load, a rule's regex is compiled once with V8's linear-time engine
 *   (the `l` flag); a pattern that engine cannot run (backreferences, large
 *   counted repetitions such as `(a+){1,50}`) is refused with one line;
 * - at run time the regex runs on V8's ordinary backtracking engine, which is
 *   as fast as before on ordinary lines, and V8 re-runs it on the linear
 *   engine once it has backtracked too much
 *   (`--enable-experimental-regexp-engine-on-excessive-backtracks`), after
 *   {@linkcode BACKTRACKS_BEFORE_FALLBACK} backtracks rather than V8's default
 *   ten times as many, so a short hostile line costs little before the switch.
 *
 * Both need V8 flags, which only the command line (`--v8-flags=...`,
 * `deno compile --v8-flags=...`) or the `DENO_V8_FLAGS` environment variable
 * can set, for the whole process and every Worker in it. Every entry point of
 * the project sets {@linkcode LINEAR_REGEX_V8_FLAGS}; {@linkcode linearRegexSupport}
 * tells whether this process has them.
 *
 * @module
 */

/**
 * Backtracks after which V8 re-runs a regex on its linear engine
 * (`--regexp-backtracks-before-fallback`). Ordinary lines of the built-in
 * rules stay far below it; a hostile line pays it once per regex before the
 * linear run (docs/decisions/0016-linear-time-regex.md).
 */
export const BACKTRACKS_BEFORE_FALLBACK = 5000;

/** The V8 flags NMS's entry points pass (comma-separated, as `--v8-flags=` and `DENO_V8_FLAGS` take them). */
export const LINEAR_REGEX_V8_FLAGS =
  "--enable-experimental-regexp-engine,--enable-experimental-regexp-engine-on-excessive-backtracks," +
  `--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`;

/**
 * How long the start-up probe may take, in ms, and still count as the linear
 * fallback being on. With the flag the probe takes about 2 ms; without it the
 * backtracking engine needs about half a second on this machine, so the
 * margin is two orders of magnitude either way.
 */
const FALLBACK_PROBE_LIMIT_MS = 100;

/** Length of the probe line: 2^22 backtracking steps without the fallback. */
const FALLBACK_PROBE_CHARS = 22;

/** What this process's V8 offers. */
export interface LinearRegexSupport {
  /** The `l` flag compiles: patterns can be checked for linear-time execution. */
  readonly linearFlag: boolean;
  /** Excessive backtracking falls back to the linear engine. */
  readonly fallback: boolean;
}

/** The flag of V8's linear-time engine (a string: the linter does not know the flag). */
const LINEAR_FLAG = "l";

let support: LinearRegexSupport | undefined;

/**
 * Whether this process runs with {@linkcode LINEAR_REGEX_V8_FLAGS}. Measured
 * once per process (a Worker shares its process's flags): the `l` flag is
 * tried directly, the fallback by a pattern that backtracks exponentially on
 * a 23-character line unless V8 falls back to the linear engine.
 *
 * @returns The support found.
 * @example
 * ```ts
 * if (!linearRegexSupport().fallback) console.warn("start with --v8-flags=" + LINEAR_REGEX_V8_FLAGS);
 * ```
 */
export function linearRegexSupport(): LinearRegexSupport {
  if (support) return support;
  let linearFlag = false;
  try {
    new RegExp("a", LINEAR_FLAG);
    linearFlag = true;
  } catch {
    // This V8 runs without --enable-experimental-regexp-engine.
  }
  let fallback = false;
  if (linearFlag) {
    // Without the fallback flag this takes about 0.5 s, once, and then the server refuses to start.
    const start = performance.now();
    new RegExp("(?:a|a)+$").test("a".repeat(FALLBACK_PROBE_CHARS) + "b");
    fallback = performance.now() - start < FALLBACK_PROBE_LIMIT_MS;
  }
  support = { linearFlag, fallback };
  return support;
}

/**
 * The sentence telling the operator how to start the server so that rule
 * regexes run in linear time.
 */
export const LINEAR_REGEX_HINT =
  `start Deno with --v8-flags=${LINEAR_REGEX_V8_FLAGS} (or DENO_V8_FLAGS=${LINEAR_REGEX_V8_FLAGS}); ` +
  "the nms-server binary and the deno tasks already do";

/**
 * Why a pattern cannot run in linear time, or null when it can (or when this
 * process cannot tell: without the `l` flag the caller decides).
 *
 * @param source The regex source.
 * @param flags Its flags (`"i"` or `""`).
 * @returns A short reason, or null.
 * @example
 * ```ts
 * notLinear("^(a+){1,50}$", ""); // "V8's linear-time engine cannot run it (...)"
 * ```
 */
export function notLinear(source: string, flags: string): string | null {
  if (!linearRegexSupport().linearFlag) return null;
  try {
    new RegExp(source, flags + LINEAR_FLAG);
    return null;
  } catch {
    return "cannot run in time linear in the line (V8's linear-time engine refuses it: " +
      "no backreferences, no counted repetition of a repeated group); rewrite it";
  }
}

/**
 * Refuses to put a rule set into service when it holds a regex of the user's
 * and this process cannot bound regex time. The built-in rules' regexes are
 * checked by their tests to run in linear time under the linear engine, and
 * stay fast on the ordinary engine too (`builtin_rules_test.ts`).
 *
 * @param regexes The rule set's regex sources.
 * @param builtin The built-in rules' regex sources.
 * @throws {RangeError} When a user regex would run without a time bound.
 * @example
 * ```ts
 * requireBoundedRegexes(set.rules.map((r) => r.regex), BUILTIN_REGEXES);
 * ```
 */
export function requireBoundedRegexes(
  regexes: readonly (string | null)[],
  builtin: ReadonlySet<string>,
): void {
  if (linearRegexSupport().fallback) return;
  const user = regexes.find((r) => r !== null && !builtin.has(r));
  if (user === undefined || user === null) return;
  throw new RangeError(
    `Cannot run rule regexes in linear time (regex ${
      JSON.stringify(user.slice(0, 60))
    }): ${LINEAR_REGEX_HINT}`,
  );
}

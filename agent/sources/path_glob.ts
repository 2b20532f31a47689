/**
 * Shell-style glob patterns for `--path` and `--exclude`:
 * `/var/log/*.log`, `/var/log/app-?.log`, `/var/log/[ab]*.log`,
 * `/srv/*\/logs/*.log`, `/var/log/{nginx,apache2}/*.log`,
 * `/var/log/pods/**\/*.log`.
 *
 * | Syntax      | Matches                                                                   |
 * | ----------- | ------------------------------------------------------------------------- |
 * | `*`         | any run of characters except `/` (also none)                              |
 * | `?`         | one character except `/`                                                  |
 * | `[abc]`     | one of the listed characters; ranges `[a-z]`; `[!x]` or `[^x]` negate     |
 * | `{a,b}`     | `a` or `b` (any number of alternatives, nested, each may hold wildcards)  |
 * | `**`        | as a whole path component: zero or more directories                       |
 * | `\x`        | the character `x` itself (`\*` is a literal star, `\{` a literal brace)   |
 *
 * Braces are expanded first, as bash does: `a{b,c{d,e}}f` is `abf`, `acdf`
 * and `acef`; a brace without a matching one, or without a comma at its
 * level (`{a}`), is literal. `**` follows bash's `globstar`: `/a/**\/b`
 * matches `/a/b`, `/a/x/b` and `/a/x/y/b`, and a final `**` matches every
 * file below. `**` inside a component (`**.log`) is refused with a message:
 * it is not a recursive wildcard there.
 *
 * As in the shell, a wildcard (`**` included) does not match a leading `.` of
 * a name (`*.log` skips `.hidden.log`, `**` skips `.git/`), and a `[` without
 * its `]` is literal. A component compiles to a regular expression without
 * ambiguous repetition, and `**` is matched component by component, so
 * matching is linear in the path's length.
 *
 * @module
 */

/** A `**` path component: zero or more directories. */
export const GLOBSTAR = "**";

/** One component of a compiled path pattern: a name matcher, or {@linkcode GLOBSTAR}. */
export type GlobPart = RegExp | typeof GLOBSTAR;

/**
 * Most patterns one brace expression expands to (`{a,b}{c,d}` is 4). A
 * pattern expanding to more is refused: each is scanned and matched on its own.
 */
export const MAX_BRACE_EXPANSIONS = 256;

/** Characters that make a path component a pattern rather than a literal name. */
const MAGIC = /(?<!\\)[*?[]/;

/**
 * Expands the braces of a pattern, as bash does (see the module doc).
 * Escaped characters stay escaped, so the results are patterns too.
 *
 * @param pattern The pattern.
 * @returns The patterns it stands for, in order, without duplicates; the
 *   pattern itself when it has no brace expression.
 * @throws {RangeError} When it expands to more than {@linkcode MAX_BRACE_EXPANSIONS} patterns.
 * @example
 * ```ts
 * expandBraces("/var/log/{nginx,apache2}/*.log");
 * // ["/var/log/nginx/*.log", "/var/log/apache2/*.log"]
 * expandBraces("a{b,c{d,e}}f"); // ["abf", "acdf", "acef"]
 * ```
 */
export function expandBraces(pattern: string): string[] {
  return [...new Set(expand(pattern))];
}

function expand(pattern: string): string[] {
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      i++;
      continue;
    }
    if (char !== "{") continue;
    const group = readBraceGroup(pattern, i);
    // A brace without its match, or without a comma at its level, is literal.
    if (group === undefined) continue;
    const prefix = pattern.slice(0, i);
    const suffixes = expand(pattern.slice(group.end));
    const results: string[] = [];
    for (const alternative of group.alternatives) {
      for (const middle of expand(alternative)) {
        for (const suffix of suffixes) {
          results.push(prefix + middle + suffix);
          if (results.length > MAX_BRACE_EXPANSIONS) {
            throw new RangeError(
              `Cannot use the pattern ${pattern}: its braces expand to more than ${MAX_BRACE_EXPANSIONS} patterns`,
            );
          }
        }
      }
    }
    return results;
  }
  return [pattern];
}

/**
 * Reads `{...}` starting at `pattern[start] === "{"`.
 *
 * @returns Its top-level alternatives and the index after its `}`, or
 *   undefined when it has no matching `}` or no top-level comma.
 */
function readBraceGroup(
  pattern: string,
  start: number,
): { alternatives: string[]; end: number } | undefined {
  let depth = 0;
  let from = start + 1;
  const alternatives: string[] = [];
  for (let i = start + 1; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") {
      i++;
    } else if (char === "{") {
      depth++;
    } else if (char === "}") {
      if (depth > 0) {
        depth--;
        continue;
      }
      if (alternatives.length === 0) return undefined;
      alternatives.push(pattern.slice(from, i));
      return { alternatives, end: i + 1 };
    } else if (char === "," && depth === 0) {
      alternatives.push(pattern.slice(from, i));
      from = i + 1;
    }
  }
  return undefined;
}

/**
 * Whether a path is a pattern: it contains an unescaped wildcard (`*`, `?`
 * or `[`) or a brace expression with alternatives.
 *
 * @param path A `--path` value.
 * @returns True when the path is a pattern to expand.
 * @example
 * ```ts
 * hasGlobMagic("/var/log/*.log"); // true
 * hasGlobMagic("/var/log/{syslog,auth.log}"); // true
 * hasGlobMagic("/var/log/syslog"); // false
 * ```
 */
export function hasGlobMagic(path: string): boolean {
  if (MAGIC.test(path)) return true;
  try {
    const expansions = expandBraces(path);
    return expansions.length !== 1 || expansions[0] !== path;
  } catch {
    return true;
  }
}

/**
 * Why a `--path` or `--exclude` pattern cannot be used, in one sentence
 * fragment, or undefined when it can.
 *
 * @param pattern The pattern.
 * @returns E.g. `** must be a whole path component (as in /var/log/**\/*.log)`.
 * @example
 * ```ts
 * globProblem("/var/log/**.log"); // "** must be a whole path component, as in /var/log/**\/*.log"
 * globProblem("/var/log/**\/*.log"); // undefined
 * ```
 */
export function globProblem(pattern: string): string | undefined {
  let expansions: string[];
  try {
    expansions = expandBraces(pattern);
  } catch {
    return `its braces expand to more than ${MAX_BRACE_EXPANSIONS} patterns`;
  }
  for (const expansion of expansions) {
    for (const component of expansion.split("/")) {
      if (component !== GLOBSTAR && /(?<!\\)\*\*/.test(component)) {
        return "** must be a whole path component, as in /var/log/**/*.log";
      }
    }
  }
  return undefined;
}

/** Escapes a character for use inside a regular expression. */
function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

/**
 * Reads a bracket expression starting at `pattern[start] === "["`.
 *
 * @returns The regular expression class and the index after `]`, or undefined
 *   when the bracket is not closed (then `[` is literal).
 */
function readBracket(pattern: string, start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === "!" || pattern[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let first = true;
  for (; i < pattern.length; i++) {
    let char = pattern[i]!;
    // A `]` right after `[` or `[!` is a member, as in the shell.
    if (char === "]" && !first) {
      if (body.length === 0) return undefined;
      // A negated class never matches `/`: names do not contain one.
      return { source: negate ? `[^/${body}]` : `[${body}]`, end: i + 1 };
    }
    first = false;
    if (char === "\\" && i + 1 < pattern.length) char = pattern[++i]!;
    if (char === "/") return undefined;
    // Ranges keep their `-`; every other character is escaped inside the class.
    if (char === "-" && body.length > 0 && pattern[i + 1] !== "]" && i + 1 < pattern.length) {
      body += "-";
    } else {
      body += /[\\\]^-]/.test(char) ? `\\${char}` : char;
    }
  }
  return undefined;
}

/**
 * Compiles one brace-free pattern without `**` components into an anchored
 * regular expression (a `**` inside a component counts as one `*`;
 * {@linkcode globProblem} refuses it before).
 */
function patternRegExp(pattern: string): RegExp {
  let source = "";
  // Whether the next character opens a name (start of the pattern or after `/`).
  let nameStart = true;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") {
      // A run of stars is one star.
      while (pattern[i + 1] === "*") i++;
      source += nameStart ? "(?![.])[^/]*" : "[^/]*";
      // A star may match nothing, so the next character may still open the name.
      continue;
    }
    if (char === "?") {
      source += nameStart ? "[^/.]" : "[^/]";
    } else if (char === "[") {
      const bracket = readBracket(pattern, i);
      if (bracket === undefined) {
        source += "\\[";
      } else {
        source += nameStart ? `(?![.])${bracket.source}` : bracket.source;
        i = bracket.end - 1;
      }
    } else if (char === "\\" && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i]!);
    } else {
      source += escapeRegExp(char);
    }
    nameStart = char === "/";
  }
  try {
    return new RegExp(`^${source}$`, "u");
  } catch {
    // Only a bracket such as `[z-a]` (a reversed range) gets here: take the
    // whole pattern literally rather than fail.
    return new RegExp(`^${[...pattern].map(escapeRegExp).join("")}$`, "u");
  }
}

/** Tells whether a name or a path matches a glob. */
export interface GlobMatcher {
  /**
   * @param text A name (for a pattern without `/`) or an absolute path.
   * @returns Whether the glob matches all of it.
   */
  test(text: string): boolean;
}

/**
 * Matches path components against parts, a {@linkcode GLOBSTAR} taking any
 * number of components that do not start with a dot. Backtracks only to the
 * last `**`, like the classic wildcard matcher: at most components × parts
 * steps, however many `**` the pattern has.
 */
function matchComponents(parts: readonly GlobPart[], names: readonly string[]): boolean {
  let p = 0;
  let n = 0;
  let starPart = -1;
  let starName = 0;
  while (n < names.length) {
    const part = parts[p];
    if (part === GLOBSTAR) {
      starPart = p++;
      starName = n;
      continue;
    }
    if (part !== undefined && part.test(names[n]!)) {
      p++;
      n++;
      continue;
    }
    // The last `**` takes one more component, if it may.
    if (starPart < 0 || names[starName]!.startsWith(".")) return false;
    p = starPart + 1;
    n = ++starName;
  }
  while (parts[p] === GLOBSTAR) p++;
  return p === parts.length;
}

/** A matcher over whole paths for a pattern with `**` components. */
function globstarMatcher(pattern: string): GlobMatcher {
  const parts: GlobPart[] = [];
  for (const component of pattern.split("/")) {
    // `**/**` is `**`.
    if (component === GLOBSTAR && parts.at(-1) === GLOBSTAR) continue;
    parts.push(component === GLOBSTAR ? GLOBSTAR : patternRegExp(component));
  }
  // A final `**` stands for at least one name: the file itself.
  if (parts.at(-1) === GLOBSTAR) parts.push(/^(?![.])/u);
  return { test: (text) => matchComponents(parts, text.split("/")) };
}

/**
 * Compiles a glob pattern into a matcher over a whole path or name. `*` and
 * `?` never match `/`, nor a `.` that starts a name; braces are alternatives
 * and a whole `**` component is any number of directories. Never throws: a
 * pattern whose braces expand too far is taken with literal braces.
 *
 * @param pattern The glob.
 * @returns A matcher of exactly the strings the glob matches; linear in
 *   their length (times the number of components with `**`).
 * @example
 * ```ts
 * compileGlob("*.log").test("app.log"); // true
 * compileGlob("*.log").test(".app.log"); // false
 * compileGlob("/var/log/*.gz").test("/var/log/a/b.gz"); // false
 * compileGlob("/var/log/**\/*.gz").test("/var/log/a/b.gz"); // true
 * compileGlob("*.{gz,xz}").test("syslog.2.xz"); // true
 * ```
 */
export function compileGlob(pattern: string): GlobMatcher {
  let expansions: string[];
  try {
    expansions = expandBraces(pattern);
  } catch {
    expansions = [pattern.replace(/[{},]/g, "\\$&")];
  }
  const matchers = expansions.map((expansion): GlobMatcher =>
    expansion.split("/").includes(GLOBSTAR) ? globstarMatcher(expansion) : patternRegExp(expansion)
  );
  if (matchers.length === 1) return matchers[0]!;
  return { test: (text) => matchers.some((matcher) => matcher.test(text)) };
}

/**
 * One brace alternative of a compiled `--path` pattern: its literal directory
 * prefix, where scanning starts, and one part per path component below it.
 */
export interface PathGlobBranch {
  /** Longest leading run of components without wildcards, e.g. `/var/log`. */
  readonly base: string;
  /**
   * One part per remaining component: a name matcher, or
   * {@linkcode GLOBSTAR}; the last one matches file names.
   */
  readonly parts: readonly GlobPart[];
}

/** A compiled `--path` pattern. */
export interface PathGlob {
  /** The pattern as given. */
  readonly pattern: string;
  /** One branch per brace alternative (one without braces). */
  readonly branches: readonly PathGlobBranch[];
}

/**
 * Compiles an absolute path pattern: braces expanded, and each expansion
 * split into its literal base directory and the component parts below it.
 *
 * @param pattern An absolute path pattern.
 * @returns The compiled pattern.
 * @throws {TypeError} When the pattern (or one of its expansions) is not
 *   absolute, names no file (`/var/log/*\/`), expands to too many patterns,
 *   or has `**` inside a component.
 * @example
 * ```ts
 * const glob = compilePathGlob("/var/log/*.log");
 * // glob.branches[0].base === "/var/log", glob.branches[0].parts.length === 1
 * ```
 */
export function compilePathGlob(pattern: string): PathGlob {
  const problem = globProblem(pattern);
  if (problem !== undefined) {
    throw new TypeError(`Cannot use the path pattern ${pattern}: ${problem}`);
  }
  const branches: PathGlobBranch[] = [];
  for (const expansion of expandBraces(pattern)) {
    if (!expansion.startsWith("/")) {
      throw new TypeError(`Cannot use the path pattern ${pattern}: it must be absolute`);
    }
    const components = expansion.split("/").filter((c) => c.length > 0 && c !== ".");
    if (expansion.endsWith("/") || components.length === 0) {
      throw new TypeError(`Cannot use the path pattern ${pattern}: it must name files`);
    }
    let literal = 0;
    while (literal < components.length && !hasGlobMagic(components[literal]!)) literal++;
    // An alternative without wildcards (`/var/log/{syslog,auth.log}`) names
    // one file: its directory is listed (and watched) for it.
    if (literal === components.length) literal--;
    const unescape = (c: string) => c.replace(/\\(.)/g, "$1");
    branches.push({
      base: "/" + components.slice(0, literal).map(unescape).join("/"),
      parts: components.slice(literal).map((c) => c === GLOBSTAR ? GLOBSTAR : patternRegExp(c)),
    });
  }
  return { pattern, branches };
}

/**
 * A set of `--exclude` patterns. A pattern without `/` is matched against the
 * file's name (`*.gz`, `*.[0-9]`, `*.{gz,xz}`); one with `/` against the whole
 * path (`/var/log/private/*`, `/var/log/**\/debug/*`).
 */
export class ExcludeList {
  readonly #names: GlobMatcher[] = [];
  readonly #paths: GlobMatcher[] = [];

  /**
   * @param patterns The `--exclude` values.
   */
  constructor(patterns: readonly string[] = []) {
    for (const pattern of patterns) {
      (pattern.includes("/") ? this.#paths : this.#names).push(compileGlob(pattern));
    }
  }

  /**
   * Whether a path is excluded.
   *
   * @param path An absolute file path.
   * @returns True when any pattern matches its name or the whole path.
   * @example
   * ```ts
   * new ExcludeList(["*.gz"]).excludes("/var/log/syslog.2.gz"); // true
   * ```
   */
  excludes(path: string): boolean {
    if (this.#names.length > 0) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (this.#names.some((re) => re.test(name))) return true;
    }
    return this.#paths.some((re) => re.test(path));
  }
}

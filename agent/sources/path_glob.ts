/**
 * Shell-style glob patterns for `--path` and `--exclude`:
 * `/var/log/*.log`, `/var/log/app-?.log`, `/var/log/[ab]*.log`,
 * `/srv/*\/logs/*.log`.
 *
 * | Syntax    | Matches                                                           |
 * | --------- | ----------------------------------------------------------------- |
 * | `*`       | any run of characters except `/` (also none)                      |
 * | `?`       | one character except `/`                                          |
 * | `[abc]`   | one of the listed characters; ranges `[a-z]`; `[!x]` or `[^x]` negate |
 * | `\x`      | the character `x` itself (`\*` is a literal star)                 |
 *
 * As in the shell, a wildcard does not match a leading `.` of a name
 * (`*.log` skips `.hidden.log`), and a `[` without its `]` is literal. `**` is
 * the same as `*`: patterns never descend into directories recursively. The
 * matcher compiles to a regular expression without nested quantifiers, so
 * matching is linear in the name's length. Never throws.
 *
 * @module
 */

/** Characters that make a path component a pattern rather than a literal name. */
const MAGIC = /(?<!\\)[*?[]/;

/**
 * Whether a path contains an unescaped wildcard (`*`, `?` or `[`).
 *
 * @param path A `--path` value.
 * @returns True when the path is a pattern to expand.
 * @example
 * ```ts
 * hasGlobMagic("/var/log/*.log"); // true
 * hasGlobMagic("/var/log/syslog"); // false
 * ```
 */
export function hasGlobMagic(path: string): boolean {
  return MAGIC.test(path);
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
 * Compiles one glob pattern into an anchored regular expression over a whole
 * path or name. `*` and `?` never match `/`, nor a `.` that starts a name.
 *
 * @param pattern The glob.
 * @returns A regular expression matching exactly the strings the glob matches.
 * @example
 * ```ts
 * globToRegExp("*.log").test("app.log"); // true
 * globToRegExp("*.log").test(".app.log"); // false
 * globToRegExp("/var/log/*.gz").test("/var/log/a/b.gz"); // false
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let source = "";
  // Whether the next character opens a name (start of the pattern or after `/`).
  let nameStart = true;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") {
      // `**` (or more) collapses into one star.
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

/**
 * A compiled `--path` pattern: its literal directory prefix, where scanning
 * starts, and one matcher per path component below it.
 */
export interface PathGlob {
  /** The pattern as given. */
  readonly pattern: string;
  /** Longest leading run of components without wildcards, e.g. `/var/log`. */
  readonly base: string;
  /** One matcher per remaining component; the last one matches file names. */
  readonly parts: readonly RegExp[];
}

/**
 * Splits an absolute path pattern into its literal base directory and the
 * component matchers below it.
 *
 * @param pattern An absolute path pattern with at least one wildcard.
 * @returns The compiled pattern.
 * @throws {TypeError} When the pattern is not absolute, or its last component
 *   is empty (`/var/log/*\/`).
 * @example
 * ```ts
 * const glob = compilePathGlob("/var/log/*.log");
 * // glob.base === "/var/log", glob.parts.length === 1
 * ```
 */
export function compilePathGlob(pattern: string): PathGlob {
  if (!pattern.startsWith("/")) {
    throw new TypeError(`Cannot use the path pattern ${pattern}: it must be absolute`);
  }
  const components = pattern.split("/").filter((c) => c.length > 0 && c !== ".");
  if (pattern.endsWith("/") || components.length === 0) {
    throw new TypeError(`Cannot use the path pattern ${pattern}: it must name files`);
  }
  let literal = 0;
  while (literal < components.length && !hasGlobMagic(components[literal]!)) literal++;
  const unescape = (c: string) => c.replace(/\\(.)/g, "$1");
  return {
    pattern,
    base: "/" + components.slice(0, literal).map(unescape).join("/"),
    parts: components.slice(literal).map(globToRegExp),
  };
}

/**
 * A set of `--exclude` patterns. A pattern without `/` is matched against the
 * file's name (`*.gz`, `*.[0-9]`); one with `/` against the whole path
 * (`/var/log/private/*`).
 */
export class ExcludeList {
  readonly #names: RegExp[] = [];
  readonly #paths: RegExp[] = [];

  /**
   * @param patterns The `--exclude` values.
   */
  constructor(patterns: readonly string[] = []) {
    for (const pattern of patterns) {
      (pattern.includes("/") ? this.#paths : this.#names).push(globToRegExp(pattern));
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

/**
 * POSIX path helpers of the agent: `join`, `dirname`, `basename` and
 * `resolve`, byte for byte what `node:path` returns on Linux and macOS (the
 * algorithm is Node's `lib/path.js`, and `_posix_path_test.ts` compares them).
 *
 * Why not `node:path`: importing any `node:` module makes Deno load part of its
 * Node compatibility layer, which costs the idle agent about 1 MB of its
 * resident memory for four string functions (docs/decisions/0012-agent-memory.md).
 * The agent runs on Linux and macOS only, so separators are always `/`.
 *
 * @module
 */

const SLASH = 47; // "/"
const DOT = 46; // "."

/**
 * Resolves `.` and `..` segments and collapses repeated slashes (Node's
 * `normalizeString` for `/`). The result has no leading or trailing slash.
 */
function normalizeSegments(path: string, allowAboveRoot: boolean): string {
  let res = "";
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  let code = 0;
  for (let i = 0; i <= path.length; ++i) {
    if (i < path.length) code = path.charCodeAt(i);
    else if (code === SLASH) break;
    else code = SLASH;
    if (code === SLASH) {
      if (lastSlash === i - 1 || dots === 1) {
        // An empty segment or ".": nothing to add.
      } else if (dots === 2) {
        if (
          res.length < 2 || lastSegmentLength !== 2 || res.charCodeAt(res.length - 1) !== DOT ||
          res.charCodeAt(res.length - 2) !== DOT
        ) {
          if (res.length > 2) {
            const lastSlashIndex = res.lastIndexOf("/");
            if (lastSlashIndex === -1) {
              res = "";
              lastSegmentLength = 0;
            } else {
              res = res.slice(0, lastSlashIndex);
              lastSegmentLength = res.length - 1 - res.lastIndexOf("/");
            }
            lastSlash = i;
            dots = 0;
            continue;
          } else if (res.length !== 0) {
            res = "";
            lastSegmentLength = 0;
            lastSlash = i;
            dots = 0;
            continue;
          }
        }
        if (allowAboveRoot) {
          res += res.length > 0 ? "/.." : "..";
          lastSegmentLength = 2;
        }
      } else {
        if (res.length > 0) res += `/${path.slice(lastSlash + 1, i)}`;
        else res = path.slice(lastSlash + 1, i);
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === DOT && dots !== -1) {
      ++dots;
    } else {
      dots = -1;
    }
  }
  return res;
}

/** Node's `path.posix.normalize`. */
function normalize(path: string): string {
  if (path.length === 0) return ".";
  const isAbsolute = path.charCodeAt(0) === SLASH;
  const trailingSeparator = path.charCodeAt(path.length - 1) === SLASH;
  let result = normalizeSegments(path, !isAbsolute);
  if (result.length === 0) {
    if (isAbsolute) return "/";
    return trailingSeparator ? "./" : ".";
  }
  if (trailingSeparator) result += "/";
  return isAbsolute ? `/${result}` : result;
}

/**
 * Joins path segments with `/` and normalizes the result, like `node:path`'s `join`.
 *
 * @param parts Segments; empty ones are skipped.
 * @returns The joined path, `.` when nothing is left.
 * @example
 * ```ts
 * join("/var/lib/nms-agent", "agent-state.json"); // "/var/lib/nms-agent/agent-state.json"
 * ```
 */
export function join(...parts: string[]): string {
  let joined: string | undefined;
  for (const part of parts) {
    if (part.length > 0) joined = joined === undefined ? part : `${joined}/${part}`;
  }
  return joined === undefined ? "." : normalize(joined);
}

/**
 * The directory part of a path, like `node:path`'s `dirname`.
 *
 * @param path A path.
 * @returns Everything before the last segment (`/` for a root entry, `.` for a bare name).
 * @example
 * ```ts
 * dirname("/var/log/syslog"); // "/var/log"
 * ```
 */
export function dirname(path: string): string {
  if (path.length === 0) return ".";
  const hasRoot = path.charCodeAt(0) === SLASH;
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; --i) {
    if (path.charCodeAt(i) === SLASH) {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else {
      matchedSlash = false;
    }
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return path.slice(0, end);
}

/**
 * The last segment of a path, like `node:path`'s `basename` (without a suffix).
 *
 * @param path A path.
 * @returns The last segment, trailing slashes ignored; empty for `/`.
 * @example
 * ```ts
 * basename("/var/log/syslog"); // "syslog"
 * ```
 */
export function basename(path: string): string {
  let start = 0;
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 0; --i) {
    if (path.charCodeAt(i) === SLASH) {
      if (!matchedSlash) {
        start = i + 1;
        break;
      }
    } else if (end === -1) {
      matchedSlash = false;
      end = i + 1;
    }
  }
  return end === -1 ? "" : path.slice(start, end);
}

/**
 * Resolves segments into an absolute, normalized path against the working
 * directory, like `node:path`'s `resolve`.
 *
 * @param parts Segments, right to left until one is absolute.
 * @returns The absolute path, without a trailing slash (except `/`).
 * @example
 * ```ts
 * resolve("/var/log/../log/./syslog"); // "/var/log/syslog"
 * ```
 */
export function resolve(...parts: string[]): string {
  let resolvedPath = "";
  let resolvedAbsolute = false;
  for (let i = parts.length - 1; i >= -1 && !resolvedAbsolute; i--) {
    const path = i >= 0 ? parts[i]! : Deno.cwd();
    if (path.length === 0) continue;
    resolvedPath = `${path}/${resolvedPath}`;
    resolvedAbsolute = path.charCodeAt(0) === SLASH;
  }
  resolvedPath = normalizeSegments(resolvedPath, !resolvedAbsolute);
  if (resolvedAbsolute) return `/${resolvedPath}`;
  return resolvedPath.length > 0 ? resolvedPath : ".";
}

/**
 * Filtering on the agent: lines are kept or dropped before they are
 * sent, by regular expressions (`--include`, `--exclude-line`) and by a least
 * severity (`--min-severity`). A dropped line is consumed, not lost: the
 * agent marks it done in order, so the acknowledged offset moves past it
 * exactly as if the server had stored it (sources.ts, `LineOrigin.skip`).
 *
 * The patterns come from the operator, the lines from anywhere: a pattern
 * with nested quantifiers (`(a+)+`) can take exponential time on a hostile
 * line, so keep patterns simple. Lines are decoded as UTF-8 (invalid bytes
 * become U+FFFD) only when a filter is set.
 *
 * @module
 */

import { lineSeverity } from "./severity.ts";

/** Options of {@linkcode LineFilter}. */
export interface LineFilterOptions {
  /**
   * A line is kept only if it matches at least one of these (when any are given).
   * @default {[]}
   */
  include?: readonly RegExp[];
  /**
   * A line matching any of these is dropped.
   * @default {[]}
   */
  exclude?: readonly RegExp[];
  /**
   * Least severe level kept, 0 (emergency) to 7 (debug): lines with a larger
   * number are dropped. Absent: no severity filter.
   */
  minSeverity?: number | undefined;
}

const decoder = new TextDecoder();

/**
 * Decides which lines are sent.
 *
 * @example
 * ```ts
 * const filter = new LineFilter({ exclude: [/healthcheck/], minSeverity: 4 });
 * filter.accepts(new TextEncoder().encode("<11>Nov 23 19:43:33 web app: disk failed")); // true
 * filter.accepts(new TextEncoder().encode("GET /healthcheck 200")); // false
 * ```
 */
export class LineFilter {
  readonly #include: readonly RegExp[];
  readonly #exclude: readonly RegExp[];
  readonly #minSeverity: number | undefined;

  /**
   * @param options Patterns and the least severity.
   * @throws {RangeError} When `minSeverity` is not an integer from 0 to 7.
   */
  constructor(options: LineFilterOptions) {
    // A global or sticky pattern keeps state between test() calls: use a plain copy.
    const plain = (re: RegExp) =>
      re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, "")) : re;
    this.#include = (options.include ?? []).map(plain);
    this.#exclude = (options.exclude ?? []).map(plain);
    const min = options.minSeverity;
    if (min !== undefined && !(Number.isInteger(min) && min >= 0 && min <= 7)) {
      throw new RangeError(`Cannot filter lines: invalid minimum severity ${min}`);
    }
    this.#minSeverity = min === 7 ? undefined : min;
  }

  /** Whether the filter can drop anything (otherwise the agent skips it). */
  get active(): boolean {
    return this.#include.length > 0 || this.#exclude.length > 0 ||
      this.#minSeverity !== undefined;
  }

  /**
   * Whether a line is sent.
   *
   * @param line The line's bytes, without line break.
   * @returns False when it is filtered out.
   */
  accepts(line: Uint8Array): boolean {
    return this.acceptsText(decoder.decode(line));
  }

  /**
   * Same as {@linkcode LineFilter.accepts}, for decoded text.
   *
   * @param text The line.
   * @returns False when it is filtered out.
   */
  acceptsText(text: string): boolean {
    if (this.#include.length > 0 && !this.#include.some((re) => re.test(text))) return false;
    if (this.#exclude.some((re) => re.test(text))) return false;
    if (this.#minSeverity !== undefined && lineSeverity(text) > this.#minSeverity) return false;
    return true;
  }
}

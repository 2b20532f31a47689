/**
 * Static checks on the source of a rule's regular expression: the literal
 * text every match must contain (a cheap `includes()` prefilter run before the
 * regex), and a guard against nested unbounded quantifiers, the shape behind
 * catastrophic backtracking on attacker-controlled lines.
 *
 * Both work on the pattern text with a small scanner; they are conservative:
 * when unsure, {@linkcode requiredLiteral} returns null (no prefilter) and
 * {@linkcode nestedQuantifier} only flags the classic `(…+)+` shapes.
 *
 * @module
 */

/** Shortest derived literal worth an `includes()` before the regex. */
const MIN_LITERAL_CHARS = 3;

/** A quantifier at some position: its length and whether it allows zero repetitions. */
interface Quantifier {
  readonly length: number;
  readonly optional: boolean;
  readonly unbounded: boolean;
}

/** Reads the quantifier starting at `i`, with its lazy `?`, or null. */
function quantifierAt(source: string, i: number): Quantifier | null {
  const c = source[i];
  let length = 0;
  let optional = false;
  let unbounded = false;
  if (c === "*" || c === "+" || c === "?") {
    length = 1;
    optional = c !== "+";
    unbounded = c !== "?";
  } else if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
    if (!m) return null; // a literal "{" outside unicode mode
    length = m[0].length;
    optional = Number(m[1]) === 0;
    unbounded = m[2] !== undefined && m[3] === "";
  } else {
    return null;
  }
  if (source[i + length] === "?") length++;
  return { length, optional, unbounded };
}

/** Index just after the character class that opens at `i` (`[`). */
function skipClass(source: string, i: number): number {
  let j = i + 1;
  if (source[j] === "^") j++;
  if (source[j] === "]") j++; // "[]]" style: first "]" is literal
  while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
  return j + 1;
}

/**
 * Length of the escape starting at `i` (`\`), and the literal character it
 * stands for when it is a plain escaped punctuation character, else null.
 */
function readEscape(source: string, i: number): [number, string | null] {
  const next = source[i + 1] ?? "";
  if (next === "x") return [4, null];
  if (next === "u") {
    if (source[i + 2] === "{") return [source.indexOf("}", i) + 1 - i || 2, null];
    return [6, null];
  }
  if (next === "c") return [3, null];
  if (next === "k" && source[i + 2] === "<") return [source.indexOf(">", i) + 1 - i || 2, null];
  if ((next === "p" || next === "P") && source[i + 2] === "{") {
    return [source.indexOf("}", i) + 1 - i || 2, null];
  }
  if (/[0-9]/.test(next)) {
    let j = i + 1;
    while (/[0-9]/.test(source[j] ?? "")) j++;
    return [j - i, null];
  }
  if (/[A-Za-z]/.test(next) || next === "") return [2, null]; // \d \w \s \b \n \t …
  return [2, next];
}

/** Index just after the group that opens at `i` (`(`), or the end when unbalanced. */
function skipGroup(source: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < source.length) {
    const c = source[j];
    if (c === "\\") {
      j += readEscape(source, j)[0];
      continue;
    }
    if (c === "[") {
      j = skipClass(source, j);
      continue;
    }
    if (c === "(") depth++;
    if (c === ")" && --depth === 0) return j + 1;
    j++;
  }
  return j;
}

/**
 * The longest run of literal text that every match of the pattern contains,
 * found outside groups and classes; null when the pattern has a top-level
 * alternation or no run of at least three characters.
 *
 * @param source A regular expression source, as in `new RegExp(source)`.
 * @returns The literal, or null.
 * @example
 * ```ts
 * requiredLiteral("^Failed (?<m>\\S+) for (?<user>.*) from "); // "Failed "
 * ```
 */
export function requiredLiteral(source: string): string | null {
  let best = "";
  let run = "";
  const flush = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    let literal: string | null = null;
    let next = i + 1;
    if (c === "\\") {
      const [length, char] = readEscape(source, i);
      literal = char;
      next = i + length;
    } else if (c === "[") {
      next = skipClass(source, i);
    } else if (c === "(") {
      next = skipGroup(source, i);
    } else if (c === "|") {
      return null; // some match may avoid any one side's text
    } else if (!".^$*+?{}])".includes(c)) {
      literal = c;
    }
    const q = quantifierAt(source, next);
    if (literal === null) {
      flush();
    } else if (q === null) {
      run += literal;
    } else if (q.optional) {
      flush();
    } else {
      run += literal; // at least once: the character is there, what follows may not be
      flush();
    }
    i = next + (q?.length ?? 0);
  }
  flush();
  return best.length >= MIN_LITERAL_CHARS ? best : null;
}

/**
 * Finds a group that is repeated without bound while containing an unbounded
 * quantifier itself, such as `(a+)+` or `(?:\s*x)*`: such patterns can take
 * exponential time on a crafted line.
 *
 * @param source A regular expression source.
 * @returns The offending group's text, or null when there is none.
 * @example
 * ```ts
 * nestedQuantifier("^(\\w+\\s?)+$"); // "(\\w+\\s?)"
 * nestedQuantifier("^Failed (?<m>\\S+) for"); // null
 * ```
 */
export function nestedQuantifier(source: string): string | null {
  // One frame per open group: where it starts and whether it holds an unbounded quantifier.
  const stack: { start: number; unbounded: boolean }[] = [{ start: 0, unbounded: false }];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    let next = i + 1;
    if (c === "\\") next = i + readEscape(source, i)[0];
    else if (c === "[") next = skipClass(source, i);
    else if (c === "(") {
      stack.push({ start: i, unbounded: false });
      i++;
      continue;
    }
    let group: { start: number; unbounded: boolean } | undefined;
    if (c === ")" && stack.length > 1) group = stack.pop();
    const q = quantifierAt(source, next);
    if (q?.unbounded) {
      if (group?.unbounded) return source.slice(group.start, next);
      stack.at(-1)!.unbounded = true;
    } else if (group?.unbounded) {
      stack.at(-1)!.unbounded = true;
    }
    i = next + (q?.length ?? 0);
  }
  return null;
}

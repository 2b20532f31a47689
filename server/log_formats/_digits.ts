/**
 * Allocation-free decimal digit readers over a string, for the timestamp and
 * header scanners. Every reader returns -1 instead of throwing when the text
 * is short or not a digit (`charCodeAt` past the end gives NaN, which the
 * `>= 0 && <= 9` test rejects).
 *
 * @module
 */

/** Char code of `"0"`. */
const CODE_0 = 48;

/**
 * Reads the digit at `index`.
 *
 * @param text Text to read.
 * @param index Position of the digit.
 * @returns The digit 0..9, or -1.
 * @example
 * ```ts
 * digitAt("a7", 1); // 7
 * ```
 */
export function digitAt(text: string, index: number): number {
  const d = text.charCodeAt(index) - CODE_0;
  return d >= 0 && d <= 9 ? d : -1;
}

/**
 * Reads exactly two digits starting at `index`.
 *
 * @param text Text to read.
 * @param index Position of the first digit.
 * @returns The number 0..99, or -1.
 * @example
 * ```ts
 * twoDigits("19:43", 0); // 19
 * ```
 */
export function twoDigits(text: string, index: number): number {
  const a = digitAt(text, index);
  const b = digitAt(text, index + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/**
 * Reads exactly four digits starting at `index`.
 *
 * @param text Text to read.
 * @param index Position of the first digit.
 * @returns The number 0..9999, or -1.
 * @example
 * ```ts
 * fourDigits("2026-11", 0); // 2026
 * ```
 */
export function fourDigits(text: string, index: number): number {
  const hi = twoDigits(text, index);
  const lo = twoDigits(text, index + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

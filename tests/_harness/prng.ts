/**
 * A seeded pseudo-random number generator for tests that generate their
 * inputs, so a failing run can be replayed from its seed.
 *
 * @module
 */

/**
 * Deterministic PRNG (mulberry32), so a failing run can be replayed with its seed.
 *
 * @param seed Any 32-bit integer.
 * @returns A function giving numbers in [0, 1), the same sequence for the same seed.
 * @example
 * ```ts
 * const random = prng(42);
 * const index = Math.floor(random() * 10);
 * ```
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

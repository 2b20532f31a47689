/**
 * The reusable scratch record that timestamp readers fill in, so that reading
 * a timestamp allocates nothing.
 *
 * @module
 */

/** Where a timestamp reader leaves its result. */
export interface TimestampScan {
  /** Ms since the epoch, or NaN when the timestamp is valid but its year is unknown. */
  ms: number;
  /** Index just past the timestamp. */
  next: number;
}

/**
 * Creates an empty scratch record; each parser module keeps one and reuses it
 * (parsing is synchronous, so no two parses share it at once).
 *
 * @returns A record with `ms` NaN and `next` 0.
 * @example
 * ```ts
 * const scan = createTimestampScan();
 * ```
 */
export function createTimestampScan(): TimestampScan {
  return { ms: NaN, next: 0 };
}

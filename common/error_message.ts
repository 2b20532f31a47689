/**
 * The text of a caught error, for one-line messages and log fields.
 *
 * @module
 */

/**
 * Returns the message of a caught value: an `Error`'s `message`, or the value
 * itself as text when something else was thrown.
 *
 * @param error What a `catch` clause received.
 * @returns The message.
 * @example
 * ```ts
 * try {
 *   await Deno.readTextFile("/nonexistent");
 * } catch (error) {
 *   console.error(`Cannot read the file: ${errorMessage(error)}`);
 * }
 * ```
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

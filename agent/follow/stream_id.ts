/**
 * Stream ids name one incarnation of one followed file in `EVENT <stream>
 * <position> <line>`. The server stores each (stream, position) pair at most
 * once, so an id must never be reused for different content: it is random.
 *
 * @module
 */

/** Random bytes in a stream id: 128 bits make a collision practically impossible. */
export const STREAM_ID_BYTES = 16;

/**
 * Creates a new random stream id: base64url without padding, so only the
 * characters `[A-Za-z0-9_-]` (22 of them) that the protocol allows.
 *
 * @returns A fresh id, e.g. `q8Jc0mRk3lq2wK0nTnVb3A`.
 * @example
 * ```ts
 * const stream = newStreamId();
 * // /^[A-Za-z0-9_-]{22}$/.test(stream) === true
 * ```
 */
export function newStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(STREAM_ID_BYTES));
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

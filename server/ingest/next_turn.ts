/**
 * `nextTurn()`: a pause of one turn of the event loop, in which the messages
 * that have already arrived are handled, without a timer's wait.
 *
 * `setTimeout(fn, 0)` waits a timer's turn, far longer than a message to a
 * fresh `MessageChannel`; the writer's full-text indexing takes a few hundred
 * steps to catch up after a burst, so timers between them would slow the
 * catch-up (docs/decisions/0003-ingest-hot-path.md).
 *
 * @module
 */

/**
 * Resolves after one turn of the event loop: messages already queued for
 * this thread (a pool worker's batch, say) are dispatched first.
 *
 * @returns A promise that resolves in the next turn.
 * @example
 * ```ts
 * await nextTurn(); // batches that arrived during the last step are now queued
 * ```
 */
export function nextTurn(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

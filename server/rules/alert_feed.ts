/**
 * The live stream of alerts on the main thread: the writer worker reports
 * every alert it raised or folded, and the feed hands it to its subscribers
 * (the webhook, the web console's live view).
 *
 * @module
 */

import type { AlertRecord } from "../store/store.ts";

/** An alert as just stored: new, or folded into an existing one (its count rose). */
export interface AlertNotice {
  /** The alert as stored, with its count after this occurrence. */
  readonly alert: AlertRecord;
  /** True when this is a new alert, false when it was folded into an existing one. */
  readonly created: boolean;
}

/** Receives alert notices; must not throw and must return quickly. */
export type AlertListener = (notice: AlertNotice) => void;

/**
 * Fan-out of alert notices.
 *
 * @example
 * ```ts
 * const stop = server.alerts.subscribe(({ alert, created }) => console.log(alert.description, created));
 * stop();
 * ```
 */
export class AlertFeed {
  readonly #listeners = new Set<AlertListener>();

  /**
   * Adds a listener.
   *
   * @param listener Called for each notice, in order.
   * @returns A function that removes the listener.
   */
  subscribe(listener: AlertListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Hands notices to every listener; a listener that throws is skipped.
   *
   * @param notices Notices from the writer.
   */
  publish(notices: readonly AlertNotice[]): void {
    for (const notice of notices) {
      for (const listener of this.#listeners) {
        try {
          listener(notice);
        } catch {
          // One broken listener must not stop the others.
        }
      }
    }
  }
}

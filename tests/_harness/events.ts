/**
 * Reading back what a test server stored.
 *
 * @module
 */

import { EVENT_FLAGS, type EventRecord, type Store } from "../../server/mod.ts";

/**
 * Every event that clients sent (NMS's own security events left out), oldest first.
 *
 * @param store The server's store.
 * @returns All client events, by id.
 * @example
 * ```ts
 * const events = await clientEvents(srv.store);
 * ```
 */
export async function clientEvents(store: Store): Promise<EventRecord[]> {
  const all: EventRecord[] = [];
  let afterId = 0;
  for (;;) {
    const page = await store.queryEvents({ afterId, limit: 10_000 });
    for (const event of page) if (!(event.flags & EVENT_FLAGS.internal)) all.push(event);
    if (page.length < 10_000) return all;
    afterId = page.at(-1)!.id;
  }
}

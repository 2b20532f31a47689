// The badge on the Alerts entry of the navigation, visible from every view:
// how many alerts of level BADGE_MIN_LEVEL or more were raised or updated
// since this browser last had the Alerts view open (on a first visit: in the
// last day). It re-counts at once when the live stream pushes such an alert,
// and every POLL_MS in any case (alerts of other servers sharing the
// database are not pushed). Opening the Alerts view clears it.

import { api } from "./api.js";
import { byId } from "./dom.js";

/** Lowest level the badge counts. */
export const BADGE_MIN_LEVEL = 7;
/** Re-count interval, in ms. */
const POLL_MS = 5000;
/** Wait after a push before re-counting, in ms: a burst of alerts costs one request. */
const PUSH_DEBOUNCE_MS = 250;
/** How far back a browser that never opened the Alerts view counts, in ms. */
const FIRST_VISIT_LOOKBACK_MS = 24 * 3600 * 1000;
/** Largest number shown; more shows as "99+". */
const MAX_SHOWN = 99;
/** localStorage key of the server time the Alerts view was last open. */
const SEEN_KEY = "nms.alerts.seenAt";

export function createAlertBadge() {
  const badge = byId("alerts-badge");
  const link = badge.closest("a");
  let seenAt = readSeenAt();
  let viewing = false;
  let debounce = 0;
  let generation = 0;

  function readSeenAt() {
    try {
      const value = Number(localStorage.getItem(SEEN_KEY));
      return Number.isSafeInteger(value) && value > 0 ? value : null;
    } catch {
      return null; // storage disabled: count the last day
    }
  }

  function show(total) {
    badge.hidden = total === 0;
    badge.textContent = total > MAX_SHOWN ? `${MAX_SHOWN}+` : String(total);
    const label = total === 0
      ? "Alerts"
      : `Alerts: ${total} new of level ${BADGE_MIN_LEVEL} or more`;
    link.setAttribute("aria-label", label);
    link.title = total === 0 ? "" : label;
  }

  async function refresh() {
    const mine = ++generation;
    if (viewing) return show(0);
    const since = seenAt ?? Date.now() - FIRST_VISIT_LOOKBACK_MS;
    try {
      const data = await api("/api/alerts", {
        params: { minLevel: String(BADGE_MIN_LEVEL), since: String(since), limit: "1" },
      });
      if (mine === generation && !viewing) show(data.total);
    } catch {
      // Keep the last count; the next poll tries again.
    }
  }

  setInterval(refresh, POLL_MS);
  refresh();

  return {
    /** Alerts pushed on the live stream: re-count soon if one of them counts. */
    pushed(message) {
      if (viewing) return;
      if (!message.more && !message.alerts.some((a) => a.level >= BADGE_MIN_LEVEL)) return;
      clearTimeout(debounce);
      debounce = setTimeout(refresh, PUSH_DEBOUNCE_MS);
    },
    /** The Alerts view opened or closed. */
    viewing(open) {
      viewing = open;
      generation++;
      if (open) show(0);
      else refresh();
    },
    /** The Alerts view showed everything up to this server time. */
    seen(serverNow) {
      seenAt = serverNow;
      try {
        localStorage.setItem(SEEN_KEY, String(serverNow));
      } catch {
        // storage disabled: remembered for this page only
      }
    },
  };
}

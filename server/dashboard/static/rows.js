// One table row per event, shared by Live and Search. Every value is set as
// text; failed logins get a visible badge and a row class.

import { el } from "./dom.js";
import { dateTime, FAILED_LOGIN, severityClass, severityName, shortTime } from "./format.js";

/** Marks a gap: bytes an agent could not deliver (EVENT_FLAGS.gap, docs/DELIVERY.md). */
const FLAG_GAP = 2;
/** Marks events NMS recorded about itself (EVENT_FLAGS.internal). */
const FLAG_INTERNAL = 4;

/**
 * @param {{id:number, ts:number, host:string|null, program:string|null, pid:number|null,
 *   severity:number|null, message:string, flags:number}} event
 * @returns {HTMLTableRowElement}
 */
export function eventRow(event) {
  const failed = FAILED_LOGIN.test(event.message);
  const program = event.program === null
    ? "—"
    : event.pid === null
    ? event.program
    : `${event.program}[${event.pid}]`;
  const time = el("time", {
    text: shortTime(event.ts),
    attrs: { datetime: new Date(event.ts).toISOString(), title: dateTime(event.ts) },
  });
  const message = el("td", { class: "msg" });
  if (failed) message.append(el("span", { class: "badge badge-alert", text: "failed login" }), " ");
  if (event.flags & FLAG_GAP) {
    message.append(el("span", { class: "badge badge-alert", text: "gap: lines lost" }), " ");
  }
  if (event.flags & FLAG_INTERNAL) {
    message.append(el("span", { class: "badge badge-nms", text: "NMS" }), " ");
  }
  message.append(document.createTextNode(event.message));
  const row = el("tr", { class: failed ? "failed-login" : "" }, [
    el("td", { class: "time" }, [time]),
    el("td", { class: "host", text: event.host ?? "—" }),
    el("td", { class: "severity" }, [
      el("span", { class: severityClass(event.severity), text: severityName(event.severity) }),
    ]),
    el("td", { class: "program", text: program }),
    message,
  ]);
  row.dataset.id = String(event.id);
  return row;
}

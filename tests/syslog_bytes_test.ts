/**
 * A message that is not UTF-8 keeps its bytes recoverable. Before, Latin-1
 * bytes were stored as U+FFFD and lost; now the event has the `escaped` flag,
 * its text holds `\xNN` for each invalid byte (and `\\` for a backslash), and
 * `encodeLogText()` gives back the bytes as sent. Over real UDP and TCP.
 */

import assert from "node:assert/strict";
import { EVENT_FLAGS } from "../server/mod.ts";
import { encodeLogText } from "../server/log_formats/mod.ts";
import { clientEvents } from "./_harness/events.ts";
import { startTestServer } from "./_harness/server.ts";
import { waitFor } from "./_harness/wait_for.ts";

/** `<13>Nov 23 19:43:33 legacy app: caf\xe9 \x41 ok`, the é in Latin-1. */
const LATIN1 = Uint8Array.of(
  ...new TextEncoder().encode("<13>Nov 23 19:43:33 legacy app: caf"),
  0xe9,
  ...new TextEncoder().encode(" \\x41 ok"),
);

Deno.test("syslog keeps the bytes of a non-UTF-8 message recoverable, over UDP and TCP", async () => {
  await using srv = await startTestServer({ workers: 1, syslogUdpPort: 0, syslogTcpPort: 0 });
  const udp = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  await udp.send(LATIN1, { ...srv.server.syslogAddrs.udp!, transport: "udp" });
  udp.close();
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: srv.server.syslogAddrs.tcp!.port });
  await tcp.write(Uint8Array.of(...LATIN1, 0x0a));
  const events = await waitFor(async () => {
    const all = await clientEvents(srv.store);
    return all.length >= 2 ? all : null;
  }, { timeoutMs: 20_000, message: "both messages stored" });
  tcp.close();
  for (const event of events) {
    assert.equal(event.flags & EVENT_FLAGS.escaped, EVENT_FLAGS.escaped);
    assert.equal(event.message, "caf\\xe9 \\\\x41 ok");
    assert.equal(event.program, "app");
    assert.deepEqual(encodeLogText(event.raw, true), LATIN1);
  }
});

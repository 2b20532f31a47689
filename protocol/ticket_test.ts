import assert from "node:assert/strict";
import { parseCommand } from "./codec.ts";
import { FAIL } from "./messages.ts";
import { MAX_TICKET_CHARS, parseTicket, signedTicketPart, ticketFromAck } from "./ticket.ts";

const ID = "A".repeat(22);
const MAC = "B".repeat(43);

Deno.test("parseTicket() reads the fields of signedTicketPart() and the MAC after it", () => {
  const signed = signedTicketPart({
    username: "fleet-agents",
    expiresAtSeconds: 1_700_000_000,
    id: ID,
  });
  const parsed = parseTicket(`${signed}.${MAC}`);
  assert.deepEqual(parsed, {
    username: "fleet-agents",
    expiresAtSeconds: 1_700_000_000,
    id: ID,
    mac: MAC,
    signed,
  });
});

Deno.test("parseTicket() refuses malformed, foreign and over-long tickets without throwing", () => {
  const good = `${signedTicketPart({ username: "agent", expiresAtSeconds: 1, id: ID })}.${MAC}`;
  assert.ok(parseTicket(good));
  for (
    const bad of [
      "",
      "t1",
      good.replace(/^t1/, "t2"),
      good + ".x",
      good.slice(0, -1),
      good.replace(".1.", ".-1."),
      good.replace(".1.", ".1e3."),
      good.replace(".1.", ".9999999999999."),
      good.replace(ID, ID.slice(1) + "!"),
      good.replace("YWdlbnQ", ""),
      good.replace("YWdlbnQ", "_w"), // not UTF-8
      "t1." + "A".repeat(MAX_TICKET_CHARS) + `.1.${ID}.${MAC}`,
      good.replace(MAC, MAC.slice(1) + " "),
    ]
  ) {
    assert.equal(parseTicket(bad), null, bad);
  }
});

Deno.test("ticketFromAck() takes the ticket of an ACK OK Ticket answer, nothing else", () => {
  const ticket = `${signedTicketPart({ username: "agent", expiresAtSeconds: 1, id: ID })}.${MAC}`;
  assert.equal(ticketFromAck(`Ticket ${ticket}`), ticket);
  assert.equal(ticketFromAck("Login successful"), null);
  assert.equal(ticketFromAck("Ticket not-a-ticket"), null);
});

Deno.test("parseCommand() parses TICKET and refuses arguments after it", () => {
  assert.deepEqual(parseCommand("TICKET"), { ok: true, command: { type: "TICKET" } });
  assert.deepEqual(parseCommand("TICKET please"), { ok: false, reason: FAIL.usageTicket });
});

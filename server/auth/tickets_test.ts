import assert from "node:assert/strict";
import { join } from "node:path";
import {
  loadTicketKey,
  TICKET_KEY_BYTES,
  TICKET_KEY_FILE,
  TICKET_LIFETIME_SECONDS,
  type TicketAccount,
  Tickets,
} from "./tickets.ts";
import { credentialStamp } from "./verify_login.ts";

const HASH = "scrypt$32768$8$1$c2FsdA$aGFzaA";
const NEW_HASH = "scrypt$32768$8$1$bmV3$bmV3aGFzaA";
const NOW = 1_800_000_000_000;

function key(fill = 7): Uint8Array {
  return new Uint8Array(TICKET_KEY_BYTES).fill(fill);
}

function accounts(entries: Record<string, TicketAccount>) {
  return (name: string) => Promise.resolve(entries[name]);
}

const fleet = accounts({ fleet: { role: "agent", passwordHash: HASH } });

Deno.test("Tickets.check() accepts a ticket it issued, with the account's role and stamp", async () => {
  const tickets = new Tickets(key());
  const ticket = tickets.issue("fleet", credentialStamp(HASH), NOW);
  assert.deepEqual(await tickets.check(ticket, NOW + 1000, fleet), {
    username: "fleet",
    role: "agent",
    credential: credentialStamp(HASH),
  });
});

Deno.test("Tickets.check() refuses a tampered or forged ticket", async () => {
  const tickets = new Tickets(key());
  const ticket = tickets.issue("fleet", credentialStamp(HASH), NOW);
  const [version, user, expires, id, mac] = ticket.split(".") as string[];
  const flip = (text: string) => (text[0] === "A" ? "B" : "A") + text.slice(1);
  const forged = [
    [version, user, expires, id, flip(mac!)],
    [version, user, String(Number(expires) + 60), id, mac],
    [version, user, expires, flip(id!), mac],
    [version, "YWRtaW4", expires, id, mac], // "admin"
  ].map((parts) => parts.join("."));
  const both = accounts({
    fleet: { role: "agent", passwordHash: HASH },
    admin: { role: "admin", passwordHash: HASH },
  });
  for (const text of forged) assert.equal(await tickets.check(text, NOW, both), null, text);
  // Another server's key.
  assert.equal(await new Tickets(key(8)).check(ticket, NOW, fleet), null);
});

Deno.test("Tickets.check() refuses an expired ticket, and one living longer than issued", async () => {
  const tickets = new Tickets(key(), 60);
  const ticket = tickets.issue("fleet", credentialStamp(HASH), NOW);
  assert.ok(await tickets.check(ticket, NOW + 59_000, fleet));
  assert.equal(await tickets.check(ticket, NOW + 60_000, fleet), null);
  const longer = new Tickets(key(), TICKET_LIFETIME_SECONDS).issue(
    "fleet",
    credentialStamp(HASH),
    NOW,
  );
  assert.equal(await tickets.check(longer, NOW, fleet), null);
});

Deno.test("Tickets.check() refuses tickets after a password change or the account's removal", async () => {
  const tickets = new Tickets(key());
  const ticket = tickets.issue("fleet", credentialStamp(HASH), NOW);
  const changed = accounts({ fleet: { role: "agent", passwordHash: NEW_HASH } });
  assert.equal(await tickets.check(ticket, NOW, changed), null);
  assert.equal(await tickets.check(ticket, NOW, accounts({})), null);
});

Deno.test("loadTicketKey() creates a 0600 key once and reads the same key after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-ticket-key-" });
  try {
    const first = await loadTicketKey(dir);
    assert.equal(first.length, TICKET_KEY_BYTES);
    const file = join(dir, TICKET_KEY_FILE);
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.deepEqual(await loadTicketKey(dir), first);
    await Deno.writeTextFile(file, "too short\n");
    await assert.rejects(() => loadTicketKey(dir), /not 32 bytes|Cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTicketKey() creates a missing data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-ticket-key-" });
  try {
    const key = await loadTicketKey(join(dir, "data"));
    assert.equal(key.length, TICKET_KEY_BYTES);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

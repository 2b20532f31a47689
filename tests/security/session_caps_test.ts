/**
 * No console user can sign another out or take their live-stream slots:
 * sessions and live streams are capped per user, and one more ends the
 * user's own oldest.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../../server/mod.ts";
import {
  MAX_SESSIONS,
  MAX_SESSIONS_PER_USER,
  SessionStore,
} from "../../server/dashboard/session.ts";
import {
  LiveHub,
  MAX_LIVE_CLIENTS,
  MAX_LIVE_CLIENTS_PER_USER,
} from "../../server/dashboard/live_stream.ts";
import { addUser, signIn } from "../_harness/console.ts";
import { startSecureServer } from "../_harness/secure_server.ts";

const ADMIN = { id: 1, username: "admin", role: "admin" as const, passwordHash: "scrypt$a" };
const VIEWER = { id: 2, username: "vera", role: "viewer" as const, passwordHash: "scrypt$v" };

Deno.test("a viewer who signs in more than the session limit ends only their own oldest sessions", async () => {
  const sessions = new SessionStore();
  const admin = (await sessions.create(ADMIN))!;
  const viewer: string[] = [];
  for (let i = 0; i < MAX_SESSIONS; i++) {
    const created = await sessions.create(VIEWER);
    if (created) viewer.push(created.session.id);
  }
  assert.equal(sessions.isValid(admin.session.id), true, "the admin is still signed in");
  assert.equal(sessions.size, 1 + MAX_SESSIONS_PER_USER);
  assert.equal(sessions.isValid(viewer.at(-1)!), true, "the newest session works");
  assert.equal(sessions.isValid(viewer[0]!), false, "the oldest ended");
});

Deno.test("over HTTP, the 21st sign-in of a user ends their first session and nobody else's", async () => {
  await using srv = await startSecureServer({ httpPort: 0 });
  const url = `http://127.0.0.1:${srv.server.httpAddr!.port}`;
  await addUser(srv.server.store, "vera", "viewer", "viewer password");
  const admin = await signIn(url, "admin", "admin");
  const first = await signIn(url, "vera", "viewer password");
  for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) await signIn(url, "vera", "viewer password");
  const gone = await first.fetch("/api/me");
  await gone.body?.cancel();
  assert.equal(gone.status, 401);
  assert.equal((await admin.json<{ username: string }>("/api/me")).username, "admin");
});

Deno.test("a viewer who opens more live streams than the per-user limit ends their own oldest, and others still get one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-live-" });
  const store = await openSqliteStore(join(dir, "nms.db"));
  const hub = new LiveHub(store);
  try {
    const open = (owner: typeof ADMIN | typeof VIEWER) =>
      hub.subscribe({
        owner: { userId: owner.id, passwordHash: owner.passwordHash, role: owner.role },
        filter: {},
        stillAllowed: () => true,
      });
    const viewerStreams = [];
    for (let i = 0; i < MAX_LIVE_CLIENTS; i++) viewerStreams.push(await open(VIEWER));
    assert.equal(hub.clients, MAX_LIVE_CLIENTS_PER_USER, "the viewer holds their share only");
    const admin = await open(ADMIN);
    assert.ok(admin, "the admin gets a stream");
    // The viewer's first stream was ended by their own later ones.
    const first = viewerStreams[0]!.getReader();
    for (;;) {
      const { done } = await first.read();
      if (done) break;
    }
    for (const stream of [...viewerStreams.slice(1), admin]) await stream?.cancel();
  } finally {
    hub.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

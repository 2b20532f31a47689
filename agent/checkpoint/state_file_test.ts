import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type FileState,
  formatState,
  type IncarnationState,
  parseState,
  STATE_FILE_NAME,
  STATE_FILE_VERSION,
  StateFile,
} from "./state_file.ts";

const CURRENT: IncarnationState = {
  stream: "q8Jc0mRk3lq2wK0nTnVb3A",
  dev: 2049,
  ino: 1234567,
  fingerprint: "9f86d081884c7d659a2feaa0c55ad015",
  fingerprintBytes: 256,
  offset: 81234,
  size: 81234,
  rotated: false,
};

const ROTATED: IncarnationState = {
  ...CURRENT,
  stream: "Zx1c0mRk3lq2wK0nTnVb3A",
  ino: 1234500,
  offset: 52000,
  size: 61000,
  rotated: true,
};

const ENTRY: FileState = { path: "/var/log/syslog", incarnations: [ROTATED, CURRENT] };

function withOffset(entry: FileState, offset: number): FileState {
  return {
    ...entry,
    incarnations: entry.incarnations.map((i) => ({ ...i, offset, size: offset })),
  };
}

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-state-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("StateFile.load() reports a missing file as a first start", async () => {
  await using dir = await tempDir();
  assert.deepEqual(await new StateFile(dir.path).load(), { status: "missing" });
});

Deno.test("StateFile.save() then load() round-trips the positions", async () => {
  await using dir = await tempDir();
  const state = new StateFile(join(dir.path, "nested", "state"));
  const lost = { ...ROTATED, lost: "rotated and removed while the agent was stopped" };
  const files = [
    ENTRY,
    { ...withOffset(ENTRY, 0), path: "/var/log/auth.log" },
    { path: "/var/log/new.log", incarnations: [] },
    { path: "/var/log/gone.log", incarnations: [lost] },
  ];
  await state.save(files);
  const loaded = await state.load();
  assert.equal(loaded.status, "ok");
  assert.deepEqual(loaded.status === "ok" && loaded.files, files);
});

Deno.test("StateFile.save() writes atomically: mode 0600, versioned JSON, no temp file left", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  // A stale temp file from a crash must not matter.
  await Deno.writeTextFile(`${state.path}.tmp`, "garbage", { mode: 0o644 });
  await state.save([ENTRY], Date.UTC(2025, 11, 11, 16));
  const info = await Deno.stat(state.path);
  assert.equal(info.mode! & 0o777, 0o600);
  const names = [];
  for await (const entry of Deno.readDir(dir.path)) names.push(entry.name);
  assert.deepEqual(names, [STATE_FILE_NAME]);
  const json = JSON.parse(await Deno.readTextFile(state.path));
  assert.equal(json.version, STATE_FILE_VERSION);
  assert.equal(json.savedAt, "2025-12-11T16:00:00.000Z");
  assert.deepEqual(json.files, [ENTRY]);
});

Deno.test("StateFile.save() replaces the previous state completely", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  await state.save([ENTRY, { ...ENTRY, path: "/b" }]);
  await state.save([withOffset(ENTRY, 5)]);
  const loaded = await state.load();
  assert.deepEqual(loaded.status === "ok" && loaded.files, [withOffset(ENTRY, 5)]);
});

Deno.test("StateFile.load() reports a corrupt file instead of throwing", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  await Deno.writeTextFile(state.path, '{"version": 1, "files": [');
  const loaded = await state.load();
  assert.equal(loaded.status, "corrupt");
  const movedTo = await state.quarantine();
  assert.equal(movedTo, `${state.path}.corrupt`);
  assert.deepEqual(await state.load(), { status: "missing" });
});

Deno.test("parseState() refuses a state file from a newer agent", () => {
  const result = parseState(JSON.stringify({ version: STATE_FILE_VERSION + 1, files: [] }));
  assert.equal(result.status, "unsupported");
  assert.match(result.status === "unsupported" ? result.reason : "", /version 3 is newer/);
});

Deno.test("parseState() upgrades a version 1 file: one current incarnation per path", () => {
  const { size: _size, rotated: _rotated, ...flat } = CURRENT;
  const v1 = { version: 1, files: [{ path: "/var/log/syslog", ...flat }] };
  assert.deepEqual(parseState(JSON.stringify(v1)), {
    status: "ok",
    files: [{ path: "/var/log/syslog", incarnations: [CURRENT] }],
  });
});

Deno.test("parseState() rejects entries with wrong types or negative offsets", () => {
  const path = "/var/log/syslog";
  const v2 = (inc: unknown) => ({ version: 2, files: [{ path, incarnations: [inc] }] });
  const cases: unknown[] = [
    null,
    [],
    { files: [] },
    { version: 2, files: {} },
    v2({ ...CURRENT, offset: -1 }),
    v2({ ...CURRENT, offset: "5" }),
    v2({ ...CURRENT, size: -5 }),
    v2({ ...CURRENT, rotated: "yes" }),
    v2({ ...CURRENT, lost: 5 }),
    v2({ ...CURRENT, stream: "has space" }),
    v2({ ...CURRENT, fingerprint: "XYZ" }),
    v2(null),
    { version: 2, files: [{ path, incarnations: {} }] },
    { version: 2, files: [{ ...ENTRY, path: "" }] },
    { version: 2, files: [null] },
    { version: 1, files: [{ path, ...CURRENT, offset: -1 }] },
  ];
  for (const value of cases) {
    assert.equal(parseState(JSON.stringify(value)).status, "corrupt", JSON.stringify(value));
  }
});

Deno.test("formatState() output is accepted by parseState()", () => {
  assert.deepEqual(parseState(formatState([ENTRY], 0)), {
    status: "ok",
    files: [ENTRY],
    savedAtMs: 0,
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type FileState,
  formatState,
  type IncarnationState,
  MIN_STATE_CHANGES_BYTES,
  parseState,
  STATE_CHANGES_FILE_NAME,
  STATE_FILE_NAME,
  STATE_FILE_VERSION,
  StateFile,
} from "./state_file.ts";
import { formatChangeLine, parseChanges } from "./state_changes.ts";

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
  state.close();
  const loaded = await new StateFile(join(dir.path, "nested", "state")).load();
  assert.equal(loaded.status, "ok");
  assert.deepEqual(loaded.status === "ok" && loaded.files, files);
});

Deno.test("StateFile.save() writes atomically: mode 0600, versioned JSON, no temp file left", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  // A stale temp file from a crash must not matter.
  await Deno.writeTextFile(`${state.path}.tmp`, "garbage", { mode: 0o644 });
  await state.save([ENTRY], Date.UTC(2025, 11, 11, 16));
  state.close();
  assert.equal((await Deno.stat(state.path)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(state.changesPath)).mode! & 0o777, 0o600);
  const names = [];
  for await (const entry of Deno.readDir(dir.path)) names.push(entry.name);
  assert.deepEqual(names.sort(), [STATE_CHANGES_FILE_NAME, STATE_FILE_NAME]);
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
  state.close();
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
  assert.match(result.status === "unsupported" ? result.reason : "", /version 4 is newer/);
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
  assert.deepEqual(parseState(formatState([], 0)), { status: "ok", files: [], savedAtMs: 0 });
  // One entry per line, so a state file of a thousand paths stays readable.
  assert.equal(formatState([ENTRY, ENTRY], 0, 3).split("\n").length, 5);
});

/** A thousand followed paths, as on a container host. */
function manyEntries(count: number): FileState[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `/var/log/containers/app-${String(i).padStart(4, "0")}.log`,
    incarnations: [{ ...CURRENT, stream: `stream${String(i).padStart(16, "0")}`, ino: 5000 + i }],
  }));
}

function moved(entry: FileState, by: number): FileState {
  const inc = entry.incarnations.at(-1)!;
  return {
    ...entry,
    incarnations: [{ ...inc, offset: inc.offset + by, size: inc.offset + by }],
  };
}

async function loadFiles(dir: string): Promise<FileState[]> {
  const state = new StateFile(dir);
  const loaded = await state.load();
  assert.equal(loaded.status, "ok", JSON.stringify(loaded));
  return loaded.status === "ok" ? [...loaded.files] : [];
}

Deno.test("StateFile.saveChanges() writes only the paths that moved, in a few bytes each", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  let files = manyEntries(1_000);
  await state.save(files);
  const whole = state.stats.bytesWritten;
  const wholeSyncs = state.stats.syncs;
  assert.ok(whole > 100_000, `the whole state of 1,000 paths is large (${whole} bytes)`);
  // One line appended to one file, then to ten others, one save each.
  files[7] = moved(files[7]!, 31);
  await state.saveChanges({ changed: [files[7]!], removed: [] });
  const one = state.stats.bytesWritten - whole;
  assert.ok(one < 100, `one moved path costs ${one} bytes`);
  for (let i = 0; i < 10; i++) files[i * 100] = moved(files[i * 100]!, 31);
  await state.saveChanges({ changed: files.filter((_, i) => i % 100 === 0), removed: [] });
  const ten = state.stats.bytesWritten - whole - one;
  assert.ok(ten < 300, `ten moved paths cost ${ten} bytes`);
  assert.equal(state.stats.syncs, wholeSyncs + 2, "one sync per save after the whole write");
  // Unchanged entries cost nothing.
  const before = state.stats.bytesWritten;
  await state.saveChanges({ changed: [files[7]!], removed: [] });
  assert.equal(state.stats.bytesWritten, before);
  state.close();
  assert.deepEqual(await loadFiles(dir.path), files);
  files = files.slice(1);
  // New paths, removed paths, and a new incarnation are whole entries.
  const state2 = new StateFile(dir.path);
  await state2.load();
  await state2.save(files);
  const added: FileState = { path: "/var/log/new.log", incarnations: [CURRENT] };
  const rotated: FileState = { ...files[3]!, incarnations: [ROTATED, CURRENT] };
  await state2.saveChanges({ changed: [added, rotated], removed: [files[5]!.path] });
  state2.close();
  const expected = [...files.slice(0, 3), rotated, files[4]!, ...files.slice(6), added];
  assert.deepEqual(await loadFiles(dir.path), expected);
});

Deno.test("StateFile.saveChanges() writes the state whole once the change file outgrows it", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  let entry = ENTRY;
  await state.save([entry]);
  let wholeWrites = state.stats.wholeWrites;
  for (let i = 0; i < 5_000 && state.stats.wholeWrites === wholeWrites; i++) {
    entry = moved(entry, 1);
    await state.saveChanges({ changed: [entry], removed: [] });
  }
  assert.equal(state.stats.wholeWrites, wholeWrites + 1, "written whole again");
  wholeWrites = state.stats.wholeWrites;
  const changes = await Deno.readTextFile(state.changesPath);
  assert.ok(changes.length < MIN_STATE_CHANGES_BYTES);
  assert.deepEqual(await loadFiles(dir.path), [entry]);
  state.close();
});

Deno.test("StateFile.load() ignores a save cut short by a crash, and everything after it", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  const files = manyEntries(3);
  await state.save(files);
  const first = moved(files[0]!, 10);
  await state.saveChanges({ changed: [first], removed: [] }, 1_000);
  const second = moved(first, 10);
  await state.saveChanges({ changed: [second], removed: [] }, 2_000);
  state.close();
  const text = await Deno.readTextFile(state.changesPath);
  // Cut the last save in the middle, as a crash during its write would.
  await Deno.writeTextFile(state.changesPath, text.slice(0, text.length - 7));
  let loaded = await new StateFile(dir.path).load();
  assert.equal(loaded.status, "ok");
  assert.deepEqual(loaded.status === "ok" && loaded.files, [first, files[1], files[2]]);
  assert.equal(loaded.status === "ok" && loaded.savedAtMs, 1_000);
  assert.ok(loaded.status === "ok" && loaded.ignoredBytes! > 0);
  // A whole last line with a wrong checksum is damage too.
  const lines = text.split("\n");
  const damaged = lines.slice(0, -2).join("\n") + "\n" +
    lines.at(-2)!.replace(/"t":2000/, '"t":2001') + "\n";
  await Deno.writeTextFile(state.changesPath, damaged);
  loaded = await new StateFile(dir.path).load();
  assert.deepEqual(loaded.status === "ok" && loaded.files, [first, files[1], files[2]]);
  // A change file of an older generation (a crash after the whole write) is stale.
  await Deno.writeTextFile(
    state.changesPath,
    formatChangeLine({ version: STATE_FILE_VERSION, generation: 0 }) +
      formatChangeLine({ t: 5, set: [[0, 999_999]] }),
  );
  loaded = await new StateFile(dir.path).load();
  assert.deepEqual(loaded.status === "ok" && loaded.files, files);
});

Deno.test("StateFile.load() migrates a version 2 file; the next save writes version 3", async () => {
  await using dir = await tempDir();
  const v2 = JSON.stringify({ version: 2, savedAt: "2025-12-11T16:00:00.000Z", files: [ENTRY] });
  await Deno.writeTextFile(join(dir.path, STATE_FILE_NAME), v2);
  const state = new StateFile(dir.path);
  const loaded = await state.load();
  assert.deepEqual(loaded, {
    status: "ok",
    files: [ENTRY],
    savedAtMs: Date.UTC(2025, 11, 11, 16),
  });
  await state.save([ENTRY]);
  state.close();
  const json = JSON.parse(await Deno.readTextFile(state.path));
  assert.equal(json.version, 3);
  assert.deepEqual(json.files, [ENTRY]);
  const { header, lines } = parseChanges(await Deno.readTextFile(state.changesPath));
  assert.deepEqual(header, { version: 3, generation: json.generation });
  assert.deepEqual(lines, []);
});

Deno.test("StateFile.load() refuses a change file from a newer agent", async () => {
  await using dir = await tempDir();
  const state = new StateFile(dir.path);
  await state.save([ENTRY]);
  state.close();
  const generation = JSON.parse(await Deno.readTextFile(state.path)).generation;
  await Deno.writeTextFile(
    state.changesPath,
    formatChangeLine({ version: STATE_FILE_VERSION + 1, generation }),
  );
  const loaded = await new StateFile(dir.path).load();
  assert.equal(loaded.status, "unsupported");
});

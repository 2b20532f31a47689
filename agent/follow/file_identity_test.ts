import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FINGERPRINT_BYTES,
  fingerprintMatches,
  fingerprintOf,
  headMatches,
  readFileIdentity,
  sameFile,
} from "./file_identity.ts";

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "nms-identity-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("readFileIdentity() returns device, inode and a fingerprint of the first bytes", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "a.log");
  await Deno.writeTextFile(path, "x".repeat(1000));
  using file = await Deno.open(path);
  const identity = await readFileIdentity(file);
  const info = await Deno.stat(path);
  assert.equal(identity.dev, info.dev);
  assert.equal(identity.ino, info.ino);
  assert.equal(identity.fingerprintBytes, FINGERPRINT_BYTES);
  assert.match(identity.fingerprint, /^[0-9a-f]{32}$/);
});

Deno.test("readFileIdentity() covers only the bytes a short file has", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "short.log");
  await Deno.writeTextFile(path, "abc\n");
  using file = await Deno.open(path);
  assert.equal((await readFileIdentity(file)).fingerprintBytes, 4);
});

Deno.test("readFileIdentity() tells files with different first bytes apart", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "a"), "line one\n");
  await Deno.writeTextFile(join(dir.path, "b"), "line two\n");
  using a = await Deno.open(join(dir.path, "a"));
  using b = await Deno.open(join(dir.path, "b"));
  const ia = await readFileIdentity(a);
  const ib = await readFileIdentity(b);
  assert.notEqual(ia.fingerprint, ib.fingerprint);
  assert.equal(sameFile(ia, ib), false);
  assert.equal(sameFile(ia, await Deno.stat(join(dir.path, "a"))), true);
});

Deno.test("sameFile() detects a rename and recreate at the same path", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "app.log");
  await Deno.writeTextFile(path, "old\n");
  const before = await Deno.stat(path);
  await Deno.rename(path, `${path}.1`);
  await Deno.writeTextFile(path, "new\n");
  assert.equal(sameFile(before, await Deno.stat(path)), false);
  assert.equal(sameFile(before, await Deno.stat(`${path}.1`)), true);
});

Deno.test("fingerprintOf() is the first 128 bits of SHA-256 in hex", async () => {
  assert.equal(await fingerprintOf(new Uint8Array()), "e3b0c44298fc1c149afbf4c8996fb924");
});

Deno.test("fingerprintMatches() accepts a file that grew and refuses one rewritten", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "grow.log");
  await Deno.writeTextFile(path, "first\n");
  using file = await Deno.open(path);
  const saved = await readFileIdentity(file);
  await Deno.writeTextFile(path, "y".repeat(500), { append: true });
  const grown = await readFileIdentity(file);
  assert.equal(grown.fingerprintBytes, FINGERPRINT_BYTES);
  assert.equal(await fingerprintMatches(grown.head, saved), true);
  await Deno.writeTextFile(path, "other\n");
  assert.equal(await fingerprintMatches((await readFileIdentity(file)).head, saved), false);
  assert.equal(await fingerprintMatches(new Uint8Array(2), saved), false);
});

Deno.test("headMatches() reports content replaced in place or truncated", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "replaced.log");
  await Deno.writeTextFile(path, "2025-12-11 first line\n");
  using file = await Deno.open(path);
  const { head } = await readFileIdentity(file);
  assert.equal(await headMatches(file, head), true);
  await Deno.writeTextFile(path, "more\n", { append: true });
  assert.equal(await headMatches(file, head), true);
  await Deno.writeTextFile(path, "2025-12-12 other line\n");
  assert.equal(await headMatches(file, head), false);
  await Deno.truncate(path, 3);
  assert.equal(await headMatches(file, head), false);
  assert.equal(await headMatches(file, new Uint8Array()), true);
});

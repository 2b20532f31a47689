import assert from "node:assert/strict";
import { join } from "node:path";
import { GzipFile } from "./gzip_file.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Numbered lines: every offset holds a byte that says where it is. */
function lines(count: number): Uint8Array {
  let text = "";
  for (let i = 0; i < count; i++) text += `line ${i} ${"x".repeat(i % 50)}\n`;
  return new TextEncoder().encode(text);
}

async function readAll(file: GzipFile, bufferBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(bufferBytes);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    // Only the last read may be short: a short read means the end.
    assert.equal(parts.some((p) => p.length < bufferBytes), false);
    parts.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function withGz(content: Uint8Array, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-gzip-file-" });
  try {
    const path = join(dir, "app.log.1.gz");
    await Deno.writeFile(path, await gzip(content));
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("GzipFile.read() returns the decompressed content, filling the buffer until the end", async () => {
  const content = lines(20_000);
  await withGz(content, async (path) => {
    using file = await GzipFile.open(path);
    assert.equal(file.size, undefined);
    assert.deepEqual(await readAll(file, 10_007), content);
    assert.equal(file.size, content.length);
    assert.equal((await file.stat()).size, content.length);
    assert.equal(file.damage, undefined);
    assert.equal(await file.read(new Uint8Array(10)), null);
  });
});

Deno.test("GzipFile.seek() skips forward without decoding again, and backward by decoding from the start", async () => {
  const content = lines(20_000);
  await withGz(content, async (path) => {
    using file = await GzipFile.open(path);
    const buffer = new Uint8Array(100);
    await file.seek(500_000, Deno.SeekMode.Start);
    assert.equal(await file.read(buffer), 100);
    assert.deepEqual(buffer, content.subarray(500_000, 500_100));
    assert.equal(file.restarts, 0);
    await file.seek(123, Deno.SeekMode.Start);
    assert.equal(await file.read(buffer), 100);
    assert.deepEqual(buffer, content.subarray(123, 223));
    assert.equal(file.restarts, 1);
    // Past the end: nothing, like a plain file.
    await file.seek(content.length + 10, Deno.SeekMode.Start);
    assert.equal(await file.read(buffer), null);
    await assert.rejects(() => file.seek(0, Deno.SeekMode.End), TypeError);
  });
});

Deno.test("GzipFile reads on through its descriptor after the file is renamed and removed", async () => {
  const content = lines(5_000);
  await withGz(content, async (path) => {
    using file = await GzipFile.open(path);
    const head = new Uint8Array(64);
    await file.read(head);
    await Deno.rename(path, `${path}.old`);
    await Deno.remove(`${path}.old`);
    await file.seek(0, Deno.SeekMode.Start);
    assert.deepEqual(await readAll(file, 4096), content);
  });
});

Deno.test("GzipFile ends where a cut-short stream stops decoding, and says why in damage", async () => {
  const content = lines(20_000);
  const dir = await Deno.makeTempDir({ prefix: "nms-gzip-file-" });
  try {
    const path = join(dir, "app.log.1.gz");
    const compressed = await gzip(content);
    await Deno.writeFile(path, compressed.subarray(0, Math.floor(compressed.length / 2)));
    using file = await GzipFile.open(path);
    const got = await readAll(file, 65_536);
    assert.ok(file.damage !== undefined && file.damage.length > 0);
    assert.ok(got.length < content.length);
    // What was decoded is the true start of the content.
    assert.deepEqual(got, content.subarray(0, got.length));
    assert.equal(file.size, got.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GzipFile.read() fails once the file is closed", async () => {
  await withGz(lines(10), async (path) => {
    const file = await GzipFile.open(path);
    file.close();
    file.close();
    await assert.rejects(() => file.read(new Uint8Array(10)), Deno.errors.BadResource);
  });
});

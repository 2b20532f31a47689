import assert from "node:assert/strict";
import { join } from "node:path";
import { findRotatedCopy } from "./find_copy.ts";
import { fileKey } from "./find_rotated.ts";
import { RotatedCopy } from "./rotated_copy.ts";

const encoder = new TextEncoder();
const content = encoder.encode(Array.from({ length: 50 }, (_, i) => `old line ${i}\n`).join(""));
const head = content.subarray(0, 256);

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function withDir(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-find-copy-" });
  try {
    const path = join(dir, "app.log");
    await Deno.writeTextFile(path, "new content\n");
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("findRotatedCopy() finds the plain copy whose content starts like the truncated file", async () => {
  await withDir(async (path) => {
    await Deno.writeTextFile(`${path}.2`, "an older copy\n".repeat(40));
    await Deno.writeFile(`${path}.1`, content);
    const { copy } = await findRotatedCopy(path, head, 300, new Set());
    assert.ok(copy !== undefined);
    assert.equal(copy.foundAt, `${path}.1`);
    assert.equal(copy.how, "copy");
    assert.equal(copy.size, content.length);
    assert.ok(copy.file instanceof RotatedCopy);
    copy.file.close();
  });
});

Deno.test("findRotatedCopy() reads a .gz copy once compress has removed the plain one", async () => {
  await withDir(async (path) => {
    await Deno.writeFile(`${path}.2.gz`, await gzip(encoder.encode("older\n".repeat(60))));
    await Deno.writeFile(`${path}.1.gz`, await gzip(content));
    const { copy } = await findRotatedCopy(path, head, content.length, new Set());
    assert.ok(copy !== undefined);
    assert.equal(copy.foundAt, `${path}.1.gz`);
    assert.equal(copy.how, "gzip");
    // Device and inode of the .gz file: what the follower excludes and saves.
    const info = await Deno.stat(`${path}.1.gz`);
    assert.equal(fileKey(copy.identity), fileKey(info));
    const buffer = new Uint8Array(content.length + 10);
    await copy.file.seek(0, Deno.SeekMode.Start);
    assert.equal(await copy.file.read(buffer), content.length);
    copy.file.close();
  });
});

Deno.test("findRotatedCopy() prefers a plain copy that reaches the offset, then a .gz, then a shorter one", async () => {
  await withDir(async (path) => {
    // A copy made before the last bytes the agent read (copy→truncate window).
    await Deno.writeFile(`${path}.1`, content.subarray(0, 300));
    const short = await findRotatedCopy(path, head, content.length, new Set());
    assert.equal(short.copy?.foundAt, `${path}.1`);
    short.copy?.file.close();
    await Deno.writeFile(`${path}.1.gz`, await gzip(content));
    const gz = await findRotatedCopy(path, head, content.length, new Set());
    assert.equal(gz.copy?.foundAt, `${path}.1.gz`);
    gz.copy?.file.close();
    await Deno.writeFile(`${path}.0`, content);
    const whole = await findRotatedCopy(path, head, content.length, new Set());
    assert.equal(whole.copy?.foundAt, `${path}.0`);
    whole.copy?.file.close();
  });
});

Deno.test("findRotatedCopy() skips excluded files and files that start otherwise", async () => {
  await withDir(async (path) => {
    await Deno.writeFile(`${path}.1`, content);
    await Deno.writeTextFile(`${path}.3`, "x".repeat(2000));
    const exclude = new Set([fileKey(await Deno.stat(`${path}.1`))]);
    assert.deepEqual(await findRotatedCopy(path, head, 0, exclude), {});
    assert.deepEqual(await findRotatedCopy(path, new Uint8Array(), 0, new Set()), {});
  });
});

Deno.test("findRotatedCopy() names a recent copy it cannot decompress", async () => {
  await withDir(async (path) => {
    await Deno.writeTextFile(`${path}.2.bz2`, "BZh older");
    await Deno.writeTextFile(`${path}.1.zst`, "(\xb5/\xfd newer");
    const old = new Date(Date.now() - 10_000);
    await Deno.utime(`${path}.2.bz2`, old, old);
    const { copy, unreadable } = await findRotatedCopy(path, head, 0, new Set());
    assert.equal(copy, undefined);
    assert.equal(
      unreadable,
      'the newest compressed copy "app.log.1.zst" is compressed with zstd, which the agent cannot read',
    );
    // One from long ago is not this truncation's copy.
    const ancient = new Date(Date.now() - 3_600_000);
    await Deno.utime(`${path}.1.zst`, ancient, ancient);
    await Deno.utime(`${path}.2.bz2`, ancient, ancient);
    assert.deepEqual(await findRotatedCopy(path, head, 0, new Set()), {});
  });
});

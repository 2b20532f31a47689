import assert from "node:assert/strict";
import { join } from "node:path";
import { GAP_REASON_COPY_DAMAGED, GAP_REASON_COPY_WINDOW, RotatedCopy } from "./rotated_copy.ts";

async function withCopy(
  name: string,
  bytes: Uint8Array,
  fn: (copy: RotatedCopy) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nms-rotated-copy-" });
  try {
    const path = join(dir, name);
    await Deno.writeFile(path, bytes);
    const copy = await RotatedCopy.open(path);
    try {
      await fn(copy);
    } finally {
      copy.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const text = new TextEncoder().encode("one\ntwo\n");

Deno.test("RotatedCopy.gapAtEnd() owes nothing when the copy ends on a line and holds all that was seen", async () => {
  await withCopy("app.log.1", text, (copy) => {
    assert.equal(copy.compressed, false);
    assert.equal(copy.gapAtEnd({ lineEnd: 8, readOffset: 8, knownSize: 8 }), undefined);
    // Read past the copy's end in the original: still nothing unread.
    assert.equal(copy.gapAtEnd({ lineEnd: 12, readOffset: 12, knownSize: 12 }), undefined);
  });
});

Deno.test("RotatedCopy.gapAtEnd() reports a cut line and the bytes seen beyond the copy", async () => {
  await withCopy("app.log.1", text, (copy) => {
    assert.deepEqual(copy.gapAtEnd({ lineEnd: 4, readOffset: 8, knownSize: 8 }), {
      from: 4,
      to: 8,
      reason: `${GAP_REASON_COPY_WINDOW} (the copy "app.log.1" ends inside a line)`,
    });
    assert.deepEqual(copy.gapAtEnd({ lineEnd: 8, readOffset: 8, knownSize: 20 }), {
      from: 8,
      to: 20,
      reason:
        `${GAP_REASON_COPY_WINDOW} (the copy "app.log.1" ends before byte 20, the largest size seen)`,
    });
  });
});

Deno.test("RotatedCopy reads a .gz copy decompressed, and reports where a damaged one stops, once", async () => {
  const compressed = new Uint8Array(
    await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  await withCopy("app.log.2.gz", compressed, async (copy) => {
    assert.equal(copy.compressed, true);
    const buffer = new Uint8Array(100);
    assert.equal(await copy.read(buffer), 8);
    assert.deepEqual(buffer.subarray(0, 8), text);
    assert.equal(copy.damage, undefined);
  });
  await withCopy("app.log.2.gz", compressed.subarray(0, compressed.length - 6), async (copy) => {
    while (await copy.read(new Uint8Array(100)) !== null);
    assert.ok(copy.damage !== undefined);
    const size = (await copy.stat()).size;
    const gap = copy.gapAtEnd({ lineEnd: size, readOffset: size, knownSize: 0 });
    assert.ok(gap?.reason.startsWith(`${GAP_REASON_COPY_DAMAGED} ("app.log.2.gz" stops at byte`));
    // Nothing of known size is lost: said once, not on every pass.
    assert.equal(copy.gapAtEnd({ lineEnd: size, readOffset: size, knownSize: 0 }), undefined);
  });
});

Deno.test("RotatedCopy.fileInfo() of a .gz copy is the compressed file's own, stat() the content's", async () => {
  const compressed = new Uint8Array(
    await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  await withCopy("app.log.2.gz", compressed, async (copy) => {
    assert.equal((await copy.fileInfo()).size, compressed.length);
    while (await copy.read(new Uint8Array(100)) !== null);
    assert.equal((await copy.stat()).size, text.length);
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  JOURNAL_CURSOR_FILE_NAME,
  JournalCursorFile,
  parseJournalCursorFile,
} from "./journal_cursor_file.ts";

const CURSOR = "s=0123456789abcdef0123456789abcdef;i=1c2;b=5f2c;m=1a2b;t=5f2c3d;x=9e8f";

Deno.test("JournalCursorFile saves atomically with mode 0600 and loads the cursor back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-journal-cursor-" });
  try {
    const file = new JournalCursorFile(join(dir, "state"));
    assert.deepEqual(await file.load(), { status: "missing" });
    await file.save(CURSOR);
    assert.deepEqual(await file.load(), { status: "ok", cursor: CURSOR });
    const info = await Deno.stat(join(dir, "state", JOURNAL_CURSOR_FILE_NAME));
    assert.equal(info.mode! & 0o777, 0o600);
    await file.save(CURSOR.replace("i=1c2", "i=1c3"));
    assert.deepEqual(await file.load(), { status: "ok", cursor: CURSOR.replace("i=1c2", "i=1c3") });
    const names = [];
    for await (const entry of Deno.readDir(join(dir, "state"))) names.push(entry.name);
    assert.deepEqual(names, [JOURNAL_CURSOR_FILE_NAME], "no temp file left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseJournalCursorFile() reports corrupt and newer files instead of throwing", () => {
  assert.equal(parseJournalCursorFile("{").status, "corrupt");
  assert.equal(parseJournalCursorFile("[]").status, "corrupt");
  assert.equal(parseJournalCursorFile('{"cursor":"s=1;i=1"}').status, "corrupt");
  assert.equal(parseJournalCursorFile('{"version":1,"cursor":""}').status, "corrupt");
  assert.equal(parseJournalCursorFile('{"version":1,"cursor":"s=1;i=1 --all"}').status, "corrupt");
  assert.equal(parseJournalCursorFile('{"version":2,"cursor":"s=1;i=1"}').status, "unsupported");
  assert.deepEqual(parseJournalCursorFile(`{"version":1,"cursor":"${CURSOR}"}`), {
    status: "ok",
    cursor: CURSOR,
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { AGENT_VERSION, parsePrettyName, readHostInfo, sanitizeField } from "./host_info.ts";

Deno.test("parsePrettyName() unquotes PRETTY_NAME from os-release text", () => {
  const text = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
  assert.equal(parsePrettyName(text), "Debian GNU/Linux 12 (bookworm)");
  assert.equal(parsePrettyName("PRETTY_NAME='Alpine \\$ Linux'"), "Alpine $ Linux");
  assert.equal(parsePrettyName("PRETTY_NAME=Plain"), "Plain");
  assert.equal(parsePrettyName("NAME=x\n"), undefined);
  assert.equal(parsePrettyName('PRETTY_NAME=""'), undefined);
});

Deno.test("sanitizeField() keeps protocol fields on one line and the host name one word", () => {
  assert.equal(sanitizeField("my host\n", false), "my-host");
  assert.equal(sanitizeField("Debian  12\t(x)", true), "Debian 12 (x)");
  assert.equal(sanitizeField("\0\n", true), "unknown");
  assert.equal(sanitizeField("x".repeat(300), false).length, 255);
});

Deno.test("readHostInfo() reads the OS name from the first os-release file found", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nms-host-test-" });
  try {
    const file = join(dir, "os-release");
    await Deno.writeTextFile(file, 'PRETTY_NAME="Test Linux 1.0"\n');
    const info = await readHostInfo({ osReleasePaths: [join(dir, "missing"), file] });
    assert.equal(info.version, AGENT_VERSION);
    assert.equal(info.os, "Test Linux 1.0");
    assert.doesNotMatch(info.hostname, /\s/);
    const fallback = await readHostInfo({ osReleasePaths: [join(dir, "missing")] });
    assert.equal(fallback.os, Deno.build.os);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

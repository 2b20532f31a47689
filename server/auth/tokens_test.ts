import assert from "node:assert/strict";
import { generateToken, hashSecret, parseToken, TOKEN_PREFIX } from "./tokens.ts";

Deno.test("generateToken() makes distinct nms_<id>_<secret> tokens and stores only the secret's SHA-256", async () => {
  const a = await generateToken("web-01", { createdBy: "cli:root", now: 5 });
  const b = await generateToken("web-01", { createdBy: "cli:root" });
  assert.notEqual(a.token, b.token);
  assert.ok(a.token.startsWith(TOKEN_PREFIX));
  const parts = parseToken(a.token)!;
  assert.equal(parts.id, a.record.id);
  assert.equal(a.record.secretHash, await hashSecret(parts.secret));
  assert.ok(!JSON.stringify(a.record).includes(parts.secret));
  assert.deepEqual(
    { name: a.record.name, createdAt: a.record.createdAt, bound: a.record.boundHostname },
    { name: "web-01", createdAt: 5, bound: null },
  );
});

Deno.test("generateToken() rejects names and hostnames outside the allowed characters", async () => {
  await assert.rejects(generateToken("web 01", { createdBy: "x" }), TypeError);
  await assert.rejects(generateToken("", { createdBy: "x" }), TypeError);
  await assert.rejects(generateToken("ok", { createdBy: "x", boundHostname: "a;b" }), TypeError);
});

Deno.test("parseToken() returns null for anything but a well-formed token, without throwing", () => {
  const secret = "A".repeat(43);
  assert.deepEqual(parseToken(`nms_0123456789ab_${secret}`), { id: "0123456789ab", secret });
  for (
    const bad of [
      "",
      "admin",
      `nms_0123456789AB_${secret}`,
      `nms_0123456789ab_${secret}x`,
      `nms_0123456789ab_${"A".repeat(42)}=`,
      `nms_0123456789ab ${secret}`,
      `xnms_0123456789ab_${secret}`,
      `nms_0123456789ab_${secret}\n`,
    ]
  ) {
    assert.equal(parseToken(bad), null, JSON.stringify(bad));
  }
});

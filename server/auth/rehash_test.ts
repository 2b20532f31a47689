import assert from "node:assert/strict";
import { DEFAULT_SCRYPT_LOG_N, hashPassword, needsRehash } from "./password.ts";

Deno.test("needsRehash() is true for hashes cheaper than the current default and false for current ones", async () => {
  assert.equal(needsRehash(await hashPassword("pw", { logN: 10 })), true);
  assert.equal(needsRehash(await hashPassword("pw")), false);
  assert.equal(needsRehash(`scrypt$${DEFAULT_SCRYPT_LOG_N}$8$1$AAAA$BBBB`), false);
  assert.equal(needsRehash(`scrypt$${DEFAULT_SCRYPT_LOG_N}$8$1$AAAA$BBBB`, { logN: 16 }), true);
  assert.equal(needsRehash("plaintext"), true);
});

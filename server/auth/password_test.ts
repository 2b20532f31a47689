import assert from "node:assert/strict";
import { DEFAULT_SCRYPT_LOG_N, hashPassword, verifyNobody, verifyPassword } from "./password.ts";

// Low costs keep the suite fast; DEFAULT_SCRYPT_LOG_N is exercised once, by verifyNobody().
const FAST = { logN: 10 } as const;

function decodedLength(base64: string): number {
  return atob(base64).length;
}

Deno.test("hashPassword() and verifyPassword() round-trip a password", async () => {
  const hash = await hashPassword("s3cret", FAST);
  assert.equal(await verifyPassword("s3cret", hash), true);
});

Deno.test("verifyPassword() rejects a wrong password", async () => {
  const hash = await hashPassword("right horse battery", FAST);
  assert.equal(await verifyPassword("wrong horse battery", hash), false);
  assert.equal(await verifyPassword("right horse battery ", hash), false);
  assert.equal(await verifyPassword("", hash), false);
});

Deno.test("hashPassword() handles spaces, unicode and long passwords", async () => {
  for (const password of ["  spaced  out ", "pässwörd ✓ 😀", "x".repeat(1024)]) {
    const hash = await hashPassword(password, FAST);
    assert.equal(await verifyPassword(password, hash), true, password.slice(0, 20));
  }
});

Deno.test("hashPassword() records its parameters, salt and key in the hash", async () => {
  const hash = await hashPassword("s3cret", { logN: 11 });
  const parts = hash.split("$");
  assert.equal(parts.length, 6);
  assert.deepEqual(parts.slice(0, 4), ["scrypt", "11", "8", "1"]);
  assert.equal(decodedLength(parts[4]!), 16, "16-byte salt");
  assert.equal(decodedLength(parts[5]!), 32, "32-byte key");
  assert.ok(!hash.includes("s3cret"));
});

Deno.test("hashPassword() uses a fresh salt for every hash", async () => {
  const [a, b] = await Promise.all([hashPassword("same", FAST), hashPassword("same", FAST)]);
  assert.notEqual(a, b);
  assert.notEqual(a.split("$")[4], b.split("$")[4]);
});

Deno.test("hashPassword() defaults to logN 15", () => {
  assert.equal(DEFAULT_SCRYPT_LOG_N, 15);
});

Deno.test("verifyPassword() verifies a hash made with a lower cost than the default", async () => {
  for (const logN of [10, 11, 12]) {
    const hash = await hashPassword("old account", { logN });
    assert.ok(hash.startsWith(`scrypt$${logN}$`));
    assert.equal(await verifyPassword("old account", hash), true, `logN ${logN}`);
    assert.equal(await verifyPassword("other", hash), false, `logN ${logN}`);
  }
});

Deno.test("verifyPassword() uses the cost recorded in the hash, not the default", async () => {
  const hash = await hashPassword("pw", { logN: 12 });
  const relabelled = hash.replace("scrypt$12$", "scrypt$11$");
  assert.equal(await verifyPassword("pw", relabelled), false);
});

Deno.test("verifyPassword() returns false for malformed hashes and never throws", async () => {
  const good = await hashPassword("pw", FAST);
  const [, , , , salt, key] = good.split("$");
  const malformed = [
    "",
    "scrypt",
    "$",
    "$$$$$",
    "plain-text-password",
    `bcrypt$10$8$1$${salt}$${key}`,
    `SCRYPT$10$8$1$${salt}$${key}`,
    `scrypt$10$8$1$${salt}`,
    `scrypt$10$8$1$${salt}$${key}$extra`,
    `scrypt$abc$8$1$${salt}$${key}`,
    `scrypt$9$8$1$${salt}$${key}`, // below the accepted cost range
    `scrypt$21$8$1$${salt}$${key}`, // above it: would need gigabytes
    `scrypt$10.5$8$1$${salt}$${key}`,
    `scrypt$-10$8$1$${salt}$${key}`,
    `scrypt$10$0$1$${salt}$${key}`,
    `scrypt$10$33$1$${salt}$${key}`,
    `scrypt$10$8$0$${salt}$${key}`,
    `scrypt$10$8$17$${salt}$${key}`,
    `scrypt$10$8$1$!!!not base64!!!$${key}`,
    `scrypt$10$8$1$${salt}$!!!`,
    `scrypt$10$8$1$${salt}$`,
    `scrypt$10$8$1$${salt}$${btoa("short key")}`,
    `scrypt$10$8$1$${salt}$${key}${key}`,
    `scrypt$Infinity$8$1$${salt}$${key}`,
    "scrypt$10$8$1$\0$\0",
  ];
  for (const hash of malformed) {
    assert.equal(await verifyPassword("pw", hash), false, JSON.stringify(hash));
  }
});

Deno.test("verifyPassword() returns false for random garbage hashes", async () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = "scrypt$0123456789+/=AZaz\0é ";
  for (let i = 0; i < 300; i++) {
    let hash = random() < 0.5 ? "scrypt$" : "";
    const length = Math.floor(random() * 40);
    for (let j = 0; j < length; j++) hash += alphabet[Math.floor(random() * alphabet.length)];
    assert.equal(await verifyPassword("pw", hash), false, JSON.stringify(hash));
  }
});

Deno.test("verifyNobody() always returns false", async () => {
  assert.equal(await verifyNobody("admin"), false);
  assert.equal(await verifyNobody(""), false);
});

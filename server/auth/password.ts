/**
 * Password hashing with scrypt (memory-hard). A hash records its own
 * parameters, so the cost can be raised later without breaking old hashes.
 *
 * Format: `scrypt$<logN>$<r>$<p>$<salt base64>$<key base64>`.
 *
 * @module
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** Options of {@linkcode hashPassword}. */
export interface HashOptions {
  /**
   * CPU/memory cost as log2(N). 15 costs about 130 ms and 32 MiB per hash here.
   * @default {15}
   */
  logN?: number;
}

/** Default scrypt cost exponent (N = 2^15, r = 8, p = 1). */
export const DEFAULT_SCRYPT_LOG_N = 15;
/** scrypt block size. */
const SCRYPT_R = 8;
/** scrypt parallelism. */
const SCRYPT_P = 1;
/** Salt length in bytes. */
const SALT_BYTES = 16;
/** Derived key length in bytes. */
const KEY_BYTES = 32;
/** Lowest and highest cost exponent accepted when reading a stored hash. */
const LOG_N_RANGE = [10, 20] as const;

function derive(password: string, salt: Uint8Array, logN: number, r: number, p: number) {
  const N = 2 ** logN;
  // Default maxmem (32 MiB) is too small for N = 2^15, r = 8: allow twice the need.
  const maxmem = 256 * N * r + 1024 * 1024;
  return new Promise<Uint8Array>((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { N, r, p, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(new Uint8Array(key));
    });
  });
}

/**
 * Hashes a password with a fresh random salt.
 *
 * @param password The password.
 * @param options The cost.
 * @returns The self-describing hash string.
 * @example
 * ```ts
 * const hash = await hashPassword("s3cret");
 * await verifyPassword("s3cret", hash); // true
 * ```
 */
export async function hashPassword(password: string, options: HashOptions = {}): Promise<string> {
  const logN = options.logN ?? DEFAULT_SCRYPT_LOG_N;
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const key = await derive(password, salt, logN, SCRYPT_R, SCRYPT_P);
  return ["scrypt", logN, SCRYPT_R, SCRYPT_P, salt.toBase64(), key.toBase64()].join("$");
}

/**
 * Checks a password against a stored hash in constant time. A malformed hash
 * never matches.
 *
 * @param password The password to check.
 * @param hash A hash from {@linkcode hashPassword}.
 * @returns Whether the password matches.
 * @example
 * ```ts
 * await verifyPassword("wrong", await hashPassword("right")); // false
 * ```
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [logN, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(logN) || logN < LOG_N_RANGE[0] || logN > LOG_N_RANGE[1]) return false;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    return false;
  }
  const salt = fromBase64(parts[4]!);
  const expected = fromBase64(parts[5]!);
  if (!salt || !expected || expected.length !== KEY_BYTES) return false;
  const actual = await derive(password, salt, logN, r, p);
  return timingSafeEqual(actual, expected);
}

/**
 * Whether a stored hash is weaker than what {@linkcode hashPassword} makes
 * today, so that a successful login should store a fresh hash (transparent
 * upgrade when the default cost is raised).
 *
 * @param hash A stored hash that just verified.
 * @param options The cost in force.
 * @returns True when its scrypt cost is below the current one.
 * @example
 * ```ts
 * needsRehash(await hashPassword("pw", { logN: 12 })); // true
 * ```
 */
export function needsRehash(hash: string, options: HashOptions = {}): boolean {
  const parts = hash.split("$");
  if (parts[0] !== "scrypt") return true;
  const logN = Number(parts[1]);
  const r = Number(parts[2]);
  return !(logN >= (options.logN ?? DEFAULT_SCRYPT_LOG_N)) || !(r >= SCRYPT_R);
}

/** A valid hash of a random password, verified when a user does not exist so timing reveals nothing. */
let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for unknown users.
 *
 * @returns Always false.
 * @example
 * ```ts
 * const ok = user ? await verifyPassword(pw, user.passwordHash) : await verifyNobody(pw);
 * ```
 */
export async function verifyNobody(password: string): Promise<false> {
  dummyHash ??= hashPassword(new Uint8Array(randomBytes(18)).toBase64());
  await verifyPassword(password, await dummyHash);
  return false;
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    return undefined;
  }
}

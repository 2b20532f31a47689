/**
 * Agent enrollment tokens, as Wazuh enrolls agents: `nms-server token create`
 * prints a secret once, and the agent logs in with `LOGIN @token <token>`.
 *
 * A token reads `nms_<id>_<secret>`: `<id>` is 12 hex digits (6 random bytes)
 * by which the server finds the token, `<secret>` 43 base64url characters
 * (32 random bytes from `crypto.getRandomValues`). Only the SHA-256 of the
 * secret is stored: a 256-bit random secret needs no salt or slow hash, as
 * nobody can guess it, and a stolen database does not reveal it. The hashes
 * are compared in constant time.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import type { NewTokenRecord, SecurityStore, TokenRecord } from "../store/security_store.ts";

/** Every token starts with this, so it is recognisable in files and secret scanners. */
export const TOKEN_PREFIX = "nms_";
/** Random bytes of the public id part. */
export const TOKEN_ID_BYTES = 6;
/** Random bytes of the secret part (256 bits). */
export const TOKEN_SECRET_BYTES = 32;
/** Token names: 1-64 letters, digits, `_ . : -` (as hostnames and stream ids). */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** `nms_` + 12 hex digits + `_` + 43 base64url characters, nothing else. */
const TOKEN_PATTERN = /^nms_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A freshly generated token: the text to hand to the agent once, and what to store. */
export interface GeneratedToken {
  /** The whole token, `nms_<id>_<secret>`: shown once, never stored. */
  readonly token: string;
  /** What the store keeps. */
  readonly record: NewTokenRecord;
}

/** Options of {@linkcode generateToken}. */
export interface GenerateTokenOptions {
  /** Who creates it, e.g. `cli:root`. */
  readonly createdBy: string;
  /**
   * Hostname the token's agent must REGISTER as, or null for any.
   * @default {null}
   */
  readonly boundHostname?: string | null;
  /**
   * Creation time, ms since the epoch.
   * @default {Date.now()}
   */
  readonly now?: number;
}

/**
 * Generates a token with fresh random id and secret.
 *
 * @param name Its label, matching {@linkcode TOKEN_NAME_PATTERN}.
 * @param options Creator, hostname binding and clock.
 * @returns The token text and the record to store.
 * @throws {TypeError} When the name or bound hostname is invalid.
 * @example
 * ```ts
 * const { token, record } = await generateToken("web-01", { createdBy: "cli:root" });
 * await store.security.createToken(record);
 * console.log(token); // nms_3f2a9c0d1e4b_...
 * ```
 */
export async function generateToken(
  name: string,
  options: GenerateTokenOptions,
): Promise<GeneratedToken> {
  if (!TOKEN_NAME_PATTERN.test(name)) {
    throw new TypeError(
      `Invalid token name ${JSON.stringify(name)}: use 1-64 letters, digits, _ . : -`,
    );
  }
  const bound = options.boundHostname ?? null;
  if (bound !== null && !TOKEN_NAME_PATTERN.test(bound)) {
    throw new TypeError(
      `Invalid hostname ${JSON.stringify(bound)}: use 1-64 letters, digits, _ . : -`,
    );
  }
  const id = crypto.getRandomValues(new Uint8Array(TOKEN_ID_BYTES)).toHex();
  const secret = crypto.getRandomValues(new Uint8Array(TOKEN_SECRET_BYTES))
    .toBase64({ alphabet: "base64url", omitPadding: true });
  return {
    token: `${TOKEN_PREFIX}${id}_${secret}`,
    record: {
      id,
      name,
      secretHash: await hashSecret(secret),
      boundHostname: bound,
      createdAt: options.now ?? Date.now(),
      createdBy: options.createdBy,
    },
  };
}

/**
 * Splits a token into its id and secret. Never throws.
 *
 * @param text Client input.
 * @returns The parts, or null when the text is no well-formed token.
 * @example
 * ```ts
 * parseToken("nms_0123456789ab_" + "A".repeat(43)); // { id: "0123456789ab", secret: "AAA…" }
 * parseToken("admin"); // null
 * ```
 */
export function parseToken(text: string): { id: string; secret: string } | null {
  const match = TOKEN_PATTERN.exec(text);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

/**
 * SHA-256 of a token secret, lower-case hex.
 *
 * @param secret The secret part of a token.
 * @returns 64 hex digits.
 * @example
 * ```ts
 * await hashSecret("abc"); // "ba7816bf…"
 * ```
 */
export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return new Uint8Array(digest).toHex();
}

/** A well-formed digest compared against when no token matches, so timing reveals nothing. */
const NO_TOKEN_HASH = "0".repeat(64);

/**
 * Finds the valid (not revoked) token that `text` is, comparing the secret's
 * hash in constant time.
 *
 * @param security The store's security part.
 * @param text What the client sent after `LOGIN @token `.
 * @returns The token, or null when the text is malformed, unknown, wrong or revoked.
 * @example
 * ```ts
 * const token = await verifyToken(store.security, "nms_…");
 * if (token) console.log(`agent ${token.name} logged in`);
 * ```
 */
export async function verifyToken(
  security: SecurityStore,
  text: string,
): Promise<TokenRecord | null> {
  const parts = parseToken(text);
  if (!parts) return null;
  const token = await security.findToken(parts.id);
  const actual = new TextEncoder().encode(await hashSecret(parts.secret));
  const expected = new TextEncoder().encode(token?.secretHash ?? NO_TOKEN_HASH);
  const same = actual.length === expected.length && timingSafeEqual(actual, expected);
  return token && same && token.revokedAt === null ? token : null;
}

/**
 * How precisely a token's last use is kept: a fleet logging in with one
 * enrollment token writes its last use once per this interval, not once per login.
 */
export const TOKEN_USE_RESOLUTION_MS = 60_000;

/** When each token's use was last written, per store. */
const lastMarked = new WeakMap<SecurityStore, Map<string, number>>();

/**
 * Records a token's use unless it was recorded less than
 * {@linkcode TOKEN_USE_RESOLUTION_MS} ago on this store.
 *
 * @param security The store's security part.
 * @param id The token's id.
 * @param at Ms since the epoch.
 */
export async function noteTokenUse(security: SecurityStore, id: string, at: number): Promise<void> {
  let marks = lastMarked.get(security);
  if (marks === undefined) lastMarked.set(security, marks = new Map());
  const last = marks.get(id);
  if (last !== undefined && at - last < TOKEN_USE_RESOLUTION_MS && at >= last) return;
  marks.set(id, at);
  await security.markTokenUsed(id, at);
}

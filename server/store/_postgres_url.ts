/**
 * Parsing and redacting `postgres://` store URLs. Private to server/store/.
 *
 * @module
 */

import { StoreError } from "./store.ts";

/** Shape of a schema name NMS accepts: a lower-case unquoted PostgreSQL identifier. */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema used when the URL names none. */
export const DEFAULT_POSTGRES_SCHEMA = "public";

/** A validated PostgreSQL store URL. */
export interface PostgresUrl {
  /** The URL to hand to the driver: the `schema` parameter removed. */
  readonly connect: string;
  /** Schema holding the NMS tables. */
  readonly schema: string;
  /** The URL with its password replaced by `***`, safe to log. */
  readonly redacted: string;
}

/**
 * Replaces the password of a URL with `***` so that it can be logged.
 *
 * @param url Any URL; text that is not a URL is returned without anything after `://`.
 * @returns The URL without its password.
 * @example
 * ```ts
 * redactUrl("postgres://nms:secret@db/nms"); // "postgres://nms:***@db/nms"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    const scheme = url.indexOf("://");
    return scheme < 0 ? url : `${url.slice(0, scheme)}://…`;
  }
}

/**
 * Validates a `postgres://` or `postgresql://` URL and takes out the NMS-only
 * `schema` parameter (`?schema=nms`), which the driver must not see.
 *
 * @param url The store URL.
 * @returns The URL for the driver, the schema and a loggable form.
 * @throws {StoreError} With code `invalid` when the URL or schema is malformed.
 * @example
 * ```ts
 * parsePostgresUrl("postgres://nms@db:5432/nms?schema=logs").schema; // "logs"
 * ```
 */
export function parsePostgresUrl(url: string): PostgresUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError(`Invalid PostgreSQL URL ${redactUrl(url)}`, "invalid");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new StoreError(
      `Invalid PostgreSQL URL ${redactUrl(url)}: expected postgres://`,
      "invalid",
    );
  }
  const schema = parsed.searchParams.get("schema") ?? DEFAULT_POSTGRES_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new StoreError(
      `Invalid schema ${JSON.stringify(schema)} in ${
        redactUrl(url)
      }: use lower-case letters, digits and _`,
      "invalid",
    );
  }
  parsed.searchParams.delete("schema");
  return { connect: parsed.href, schema, redacted: redactUrl(url) };
}

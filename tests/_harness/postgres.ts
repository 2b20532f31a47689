/**
 * PostgreSQL for tests: finds the test database, tells whether it is
 * reachable, and hands out a fresh schema per test that is dropped afterwards,
 * so parallel runs never collide.
 *
 * Environment: `NMS_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
 * `NMS_TEST_REQUIRE_PG=1` makes "not reachable" a failure instead of a reason
 * to ignore the PostgreSQL tests (CI sets it).
 *
 * @module
 */

import postgres from "postgres";

/** The test database when `NMS_TEST_PG_URL` is not set. */
export const DEFAULT_TEST_PG_URL = "postgres://postgres@127.0.0.1:5432/test";

/** Seconds to wait for the test database before calling it unreachable. */
const CONNECT_TIMEOUT_SECONDS = 3;

/** Where the PostgreSQL tests run, or why they cannot. */
export interface PgTestTarget {
  /** Base URL of the test database (no `schema` parameter). */
  readonly url: string;
  /** Set when the database is not reachable: why. */
  readonly unreachable?: string;
  /** Whether an unreachable database must fail the run (`NMS_TEST_REQUIRE_PG=1`). */
  readonly required: boolean;
}

let target: Promise<PgTestTarget> | undefined;

/**
 * Finds the test database once per process and checks that it answers.
 *
 * @returns The URL, and the reason when it is unreachable.
 * @example
 * ```ts
 * const pg = await pgTestTarget();
 * if (pg.unreachable) console.log(pg.unreachable);
 * ```
 */
export function pgTestTarget(): Promise<PgTestTarget> {
  target ??= (async () => {
    const url = Deno.env.get("NMS_TEST_PG_URL") ?? DEFAULT_TEST_PG_URL;
    const required = Deno.env.get("NMS_TEST_REQUIRE_PG") === "1";
    const sql = postgres(url, {
      max: 1,
      connect_timeout: CONNECT_TIMEOUT_SECONDS,
      onnotice: () => {},
    });
    try {
      await sql`SELECT 1`;
      return { url, required };
    } catch (error) {
      const where = url.replace(/\/\/[^@/]*@/, "//");
      return {
        url,
        required,
        unreachable: `no PostgreSQL at ${where}: ${(error as Error).message}`,
      };
    } finally {
      await sql.end({ timeout: 0 });
    }
  })();
  return target;
}

/**
 * Registers the test that fails the run when PostgreSQL is required but not
 * reachable, and tells whether PostgreSQL tests should be ignored.
 *
 * @param pg The test target.
 * @returns The reason to ignore the PostgreSQL tests, or undefined to run them.
 * @example
 * ```ts
 * const ignoreReason = requirePg(await pgTestTarget());
 * ```
 */
export function requirePg(pg: PgTestTarget): string | undefined {
  if (!pg.unreachable) return undefined;
  if (pg.required) {
    Deno.test("PostgreSQL is reachable (NMS_TEST_REQUIRE_PG=1)", () => {
      throw new Error(pg.unreachable);
    });
  }
  return pg.unreachable;
}

/** A fresh schema in the test database; dropped on dispose. */
export interface TestSchema {
  readonly name: string;
  /** Store URL selecting the schema: `postgres://…?schema=<name>`. */
  readonly url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Picks a new random schema name (the store creates the schema when it opens).
 *
 * @param pg The reachable test target.
 * @returns The schema; dispose it with `await using`.
 * @example
 * ```ts
 * await using schema = testSchema(await pgTestTarget());
 * const store = await openStore(schema.url);
 * ```
 */
export function testSchema(pg: PgTestTarget): TestSchema {
  const name = `nms_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const url = new URL(pg.url);
  url.searchParams.set("schema", name);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
    } finally {
      await sql.end({ timeout: 5 });
    }
  };
  return { name, url: url.href, drop, [Symbol.asyncDispose]: drop };
}

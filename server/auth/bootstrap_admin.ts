/**
 * First start without users: create `admin` with a known or random password.
 * There are no default credentials.
 *
 * @module
 */

import { join } from "node:path";
import { type Store, StoreError } from "../store/store.ts";
import { hashPassword } from "./password.ts";

/** Name of the file, in the data directory, that receives a generated admin password. */
export const INITIAL_PASSWORD_FILE = "initial-admin-password";

/** Outcome of {@linkcode bootstrapAdmin}. */
export type BootstrapResult =
  | { readonly created: false }
  | { readonly created: true; readonly generated: false }
  | {
    readonly created: true;
    readonly generated: true;
    readonly password: string;
    readonly file: string;
  };

/**
 * Creates the `admin` user when the store has no users. The password is
 * `adminPassword` when given (from NMS_ADMIN_PASSWORD), otherwise 24 random
 * characters written to `<dataDir>/initial-admin-password` with mode 0600.
 *
 * @param store The store.
 * @param options Where to write a generated password, and a given one.
 * @returns Whether an admin was created, and the generated password if any.
 * @example
 * ```ts
 * const result = await bootstrapAdmin(store, { dataDir: "./data" });
 * ```
 */
export async function bootstrapAdmin(
  store: Store,
  options: { dataDir: string; adminPassword?: string | undefined },
): Promise<BootstrapResult> {
  if (await store.countUsers() > 0) return { created: false };
  if (options.adminPassword) {
    if (!await createAdmin(store, await hashPassword(options.adminPassword))) {
      return { created: false };
    }
    return { created: true, generated: false };
  }
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  const password = bytes.toBase64({ alphabet: "base64url" });
  const file = join(options.dataDir, INITIAL_PASSWORD_FILE);
  await Deno.mkdir(options.dataDir, { recursive: true });
  await Deno.writeTextFile(file, password + "\n", { mode: 0o600 });
  await Deno.chmod(file, 0o600);
  if (!await createAdmin(store, await hashPassword(password))) {
    await Deno.remove(file);
    return { created: false };
  }
  return { created: true, generated: true, password, file };
}

/**
 * Creates `admin`; false when it already exists because another server
 * sharing the same PostgreSQL database created it first.
 */
async function createAdmin(store: Store, hash: string): Promise<boolean> {
  try {
    await store.createUser("admin", hash, "admin");
    return true;
  } catch (error) {
    if (error instanceof StoreError && error.code === "conflict") return false;
    throw error;
  }
}

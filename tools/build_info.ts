/**
 * Writes `server/build_info.ts` and `agent/build_info.ts` before
 * `deno task compile`: the version from deno.json and the commit being built,
 * so `nms-server --version` and `nms-agent --version` name their commit.
 *
 * The commit comes from `NMS_BUILD_COMMIT` when set (Docker builds have no
 * `.git`), else from `git rev-parse --short HEAD` (with `-dirty` for a tree
 * with uncommitted changes), else `dev`.
 *
 * ```
 * deno run --allow-read --allow-write --allow-run=git --allow-env tools/build_info.ts
 * ```
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What a commit value may contain: it is written into TypeScript source. */
const COMMIT_PATTERN = /^[0-9A-Za-z._-]{1,64}$/;

async function git(args: string[]): Promise<string | undefined> {
  try {
    const result = await new Deno.Command("git", { args, cwd: ROOT, stderr: "null" }).output();
    return result.success ? new TextDecoder().decode(result.stdout).trim() : undefined;
  } catch {
    return undefined; // no git installed
  }
}

/**
 * The commit of this build.
 *
 * @returns A short hash, `<hash>-dirty`, or `dev`.
 */
async function buildCommit(): Promise<string> {
  const fromEnv = Deno.env.get("NMS_BUILD_COMMIT");
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!COMMIT_PATTERN.test(fromEnv)) {
      throw new TypeError(`Invalid NMS_BUILD_COMMIT ${JSON.stringify(fromEnv)}`);
    }
    return fromEnv;
  }
  const hash = await git(["rev-parse", "--short", "HEAD"]);
  if (hash === undefined || !COMMIT_PATTERN.test(hash)) return "dev";
  // Only the sources that go into the binaries count (not build_info.ts itself).
  const status = await git(["status", "--porcelain", "--", "protocol", "server", "agent"]);
  const dirty = (status ?? "").split("\n").some((line) =>
    line.trim() !== "" && !line.endsWith("build_info.ts")
  );
  return dirty ? `${hash}-dirty` : hash;
}

function source(program: string, version: string, commit: string): string {
  return `/**
 * What this build of ${program} is. \`tools/build_info.ts\` rewrites this file
 * before \`deno task compile\` with the version from deno.json and the commit
 * being built; the committed copy says \`dev\`, for runs from source.
 *
 * @module
 */

/** Version of NMS (deno.json \`version\`). */
export const BUILD_VERSION = ${JSON.stringify(version)};

/** Short commit hash of the build, or \`dev\` when run from source. */
export const BUILD_COMMIT = ${JSON.stringify(commit)};
`;
}

if (import.meta.main) {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const version = String(config.version ?? "0.0.0");
  const commit = await buildCommit();
  await Deno.writeTextFile(
    join(ROOT, "server/build_info.ts"),
    source("nms-server", version, commit),
  );
  await Deno.writeTextFile(join(ROOT, "agent/build_info.ts"), source("nms-agent", version, commit));
  Deno.stderr.writeSync(
    new TextEncoder().encode(`build_info: version ${version}, commit ${commit}\n`),
  );
}

/**
 * `nms-server` as a user runs it: a real `deno run server/main.ts` process per
 * command. A user error must be exactly one stderr line starting with
 * `nms-server: `, a non-zero exit and no stack trace; the happy path runs
 * `serve`, manages users and reads logs while the server is up, then stops it
 * with SIGTERM.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WELCOME_LINE } from "../protocol/mod.ts";
import { openSqliteStore } from "../server/mod.ts";
import { hashPassword } from "../server/auth/password.ts";
import { LineClient } from "./_harness/line_client.ts";
import { waitFor } from "./_harness/wait_for.ts";

const MAIN = fileURLToPath(new URL("../server/main.ts", import.meta.url));

/** Longest a single CLI command may take before the test gives up, in ms. */
const COMMAND_TIMEOUT_MS = 60_000;

/** The environment of the test process without NMS_* settings, so they cannot leak into a case. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("NMS_")),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface CliOptions {
  /** Working directory of the process. */
  readonly cwd: string;
  /** Text written to its stdin, which is then closed; no stdin at all when absent. */
  readonly stdin?: string;
  readonly env?: Record<string, string>;
}

/** Runs `deno run -A server/main.ts <args>` to completion. */
async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: cleanEnv(options.env),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A temp directory removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "nms-cli-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Creates a database at `dbPath` with one user, as if the server had run once. */
async function initDatabase(dbPath: string): Promise<void> {
  const store = await openSqliteStore(dbPath);
  try {
    await store.createUser("admin", await hashPassword("admin", { logN: 10 }), "admin");
  } finally {
    await store.close();
  }
}

/** Asserts the shape every user error must have, then its exact text. */
function assertUserError(result: CliResult, expectedLine: string): void {
  assert.ok(!result.stderr.includes("    at "), `stack trace on stderr:\n${result.stderr}`);
  assert.notEqual(result.code, 0, "a user error exits non-zero");
  assert.equal(result.stdout, "", "a user error prints nothing on stdout");
  const lines = result.stderr.split("\n");
  assert.equal(lines.pop(), "", "stderr ends with a newline");
  assert.equal(lines.length, 1, `exactly one stderr line, got:\n${result.stderr}`);
  assert.ok(lines[0]!.startsWith("nms-server: "), lines[0]);
  assert.equal(lines[0], expectedLine);
}

// --- user errors: golden stderr lines -------------------------------------------

/** One user error and the exact line it must print. */
interface ErrorCase {
  readonly name: string;
  readonly args: (dir: string) => string[];
  readonly stderr: string;
  /** Creates a database at `<dir>/nms.db` first. */
  readonly withDatabase?: boolean;
}

const ERROR_CASES: readonly ErrorCase[] = [
  {
    name: "an unknown command",
    args: () => ["frobnicate"],
    stderr: "nms-server: unknown command 'frobnicate' (see --help)",
  },
  {
    name: "a port above 65535",
    args: () => ["serve", "--port", "99999"],
    stderr:
      "nms-server: option '-p, --port <port>' argument '99999' is invalid. expected an integer from 0 to 65535 (see --help)",
  },
  {
    name: "a port that is not a number",
    args: () => ["serve", "--port", "http"],
    stderr:
      "nms-server: option '-p, --port <port>' argument 'http' is invalid. expected an integer from 0 to 65535 (see --help)",
  },
  {
    name: "user list without a database",
    args: () => ["user", "list"],
    stderr:
      "nms-server: No database at ./data/nms.db (start the server once, or pass --db or --store)",
  },
  {
    name: "user add with an unknown role",
    args: () => ["user", "add", "x", "--role", "god"],
    stderr:
      "nms-server: option '-r, --role <role>' argument 'god' is invalid. expected one of admin, viewer, agent (see --help)",
  },
  {
    name: "user add with a missing password file",
    args: () => ["user", "add", "x", "--password-file", "/nonexistent"],
    stderr:
      "nms-server: Cannot read password file /nonexistent: No such file or directory (os error 2): readfile '/nonexistent'",
  },
  {
    name: "user remove of a user that does not exist",
    args: (dir) => ["user", "remove", "nobody", "--db", join(dir, "nms.db")],
    stderr: "nms-server: No user named nobody",
    withDatabase: true,
  },
  {
    name: "logs --since with garbage",
    args: (dir) => ["logs", "--since", "garbage", "--db", join(dir, "nms.db")],
    stderr: 'nms-server: Invalid --since "garbage": use 30s, 15m, 2h, 7d or an ISO date',
    withDatabase: true,
  },
];

for (const errorCase of ERROR_CASES) {
  Deno.test(`nms-server prints one error line and exits non-zero for ${errorCase.name}`, async () => {
    await using dir = await tempDir();
    if (errorCase.withDatabase) await initDatabase(join(dir.path, "nms.db"));
    const result = await runCli(errorCase.args(dir.path), { cwd: dir.path });
    assertUserError(result, errorCase.stderr);
  });
}

for (const taken of ["agent", "web console"] as const) {
  Deno.test(`nms-server serve prints one error line and exits non-zero when the ${taken} port is in use`, async () => {
    await using dir = await tempDir();
    const dbPath = join(dir.path, "nms.db");
    // An initialized database, as on any restart: no admin bootstrap message precedes the error.
    await initDatabase(dbPath);
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    const [agentPort, httpPort] = taken === "agent" ? [port, 0] : [0, port];
    const result = await runCli(
      [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(agentPort),
        "--http-port",
        String(httpPort),
        "--db",
        dbPath,
        "--workers",
        "1",
      ],
      { cwd: dir.path },
    );
    assertUserError(
      result,
      `nms-server: Port ${agentPort} (agents) or ${httpPort} (web console) is already in use`,
    );
  });
}

// --- the happy path ------------------------------------------------------------------

/** A running `nms-server serve` whose stderr is collected; killed on dispose if still running. */
interface ServeProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when stderr has ended. */
  readonly stderrDone: Promise<void>;
}

function spawnServe(args: string[], options: CliOptions): ServeProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: cleanEnv(options.env),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  let exited = false;
  child.status.then(() => exited = true);
  return {
    child,
    stderr: () => text,
    stderrDone,
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGKILL");
      await child.status;
      await stderrDone;
    },
  };
}

Deno.test("nms-server serves agents, manages users and prints logs, and exits 0 on SIGTERM", async () => {
  await using dir = await tempDir();
  const dbPath = join(dir.path, "data", "nms.db");
  const adminPassword = "admin pass with spaces";
  await using serve = spawnServe(
    ["--port", "0", "--http-port", "0", "--host", "127.0.0.1", "--db", dbPath, "--workers", "1"],
    { cwd: dir.path, env: { NMS_ADMIN_PASSWORD: adminPassword } },
  );

  // The bound port is only known from the start-up line on stderr.
  const [, port] = await waitFor(
    () => /Listening for agents address=127\.0\.0\.1:(\d+) /.exec(serve.stderr()),
    { timeoutMs: 30_000, message: "the 'Listening for agents' line", intervalMs: 20 },
  );

  const [, consoleUrl] = await waitFor(
    () => /Web console listening url=(\S+)/.exec(serve.stderr()),
    { timeoutMs: 30_000, message: "the 'Web console listening' line", intervalMs: 20 },
  );
  // The container HEALTHCHECK (Dockerfile) probes this endpoint.
  const health = await fetch(new URL("/healthz", consoleUrl));
  assert.equal(health.status, 200);
  const healthBody = await health.json();
  assert.equal(healthBody.status, "ok");
  assert.ok(["checking", "ok"].includes(healthBody.integrity), healthBody.integrity);

  {
    await using client = await LineClient.connect(Number(port));
    assert.equal(await client.readLine(), WELCOME_LINE);
    await client.send(`LOGIN admin ${adminPassword}`);
    assert.equal(await client.readLine(), "ACK OK Login successful");
    await client.send("REGISTER 0.1.0 cli-test-host Linux");
    assert.equal(await client.readLine(), "ACK OK Registration successful");
    await client.send(
      "BATCH_EVENT Nov 23 19:43:33 web-01 sshd[812]: Accepted publickey for deploy",
    );
    // The ACK follows the COMMIT, so the event is on disk for the CLI below.
    assert.equal(await client.readLine(), "ACK OK Event received");
    await client.send("BYE");
    assert.equal(await client.readLine(), "ACK OK Goodbye");
  }

  const added = await runCli(["user", "add", "bob", "--role", "viewer", "--db", dbPath], {
    cwd: dir.path,
    stdin: "bob's password\n",
  });
  assert.equal(added.stderr, "");
  assert.equal(added.code, 0);
  assert.equal(added.stdout, "Created user bob with role viewer\n");

  const listed = await runCli(["user", "list", "--db", dbPath], { cwd: dir.path });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^NAME\s+ROLE\s+CREATED$/m);
  assert.match(listed.stdout, /^admin\s+admin\s+\d{4}-/m);
  assert.match(listed.stdout, /^bob\s+viewer\s+\d{4}-/m);

  const logs = await runCli(["logs", "--db", dbPath, "--host", "web-01"], { cwd: dir.path });
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stderr, "");
  assert.match(
    logs.stdout,
    /^\S+ web-01 \S+ sshd\[812\]: Accepted publickey for deploy$/m,
  );

  {
    // bob's password arrived intact through stdin: he can log in over TCP.
    await using client = await LineClient.connect(Number(port));
    await client.readLine();
    await client.send("LOGIN bob bob's password");
    assert.equal(await client.readLine(), "ACK OK Login successful");
  }

  serve.child.kill("SIGTERM");
  const status = await serve.child.status;
  await serve.stderrDone;
  assert.equal(status.code, 0, serve.stderr());
  assert.match(serve.stderr(), /Received SIGTERM, shutting down/);
  assert.match(serve.stderr(), /Server stopped/);
  assert.ok(!serve.stderr().includes("    at "), serve.stderr());
  assert.ok(!serve.stderr().includes(adminPassword), "the admin password is never logged");
  assert.ok(!serve.stderr().includes("bob's password"), "bob's password is never logged");
});

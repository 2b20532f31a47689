/**
 * `startSecureServer()`: like `startTestServer()`, but passing any
 * {@linkcode ServerOptions} through (TLS, limits, lockout, token checks), for
 * the security tests. Port 0 on 127.0.0.1, a temp data directory,
 * released with `await using`.
 *
 * @module
 */

import { join } from "node:path";
import {
  type RunningServer,
  type ServerOptions,
  silentLogger,
  startServer,
} from "../../server/mod.ts";

/** A running server and its data directory. */
export interface SecureTestServer {
  readonly server: RunningServer;
  readonly port: number;
  readonly dataDir: string;
  readonly dbPath: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, port 0, admin password `admin`, 1 worker.
 *
 * @param options Overrides of any server option.
 * @param dataDir Reuse this directory (kept on dispose), e.g. to restart.
 * @returns The server; dispose it with `await using`.
 * @example
 * ```ts
 * await using srv = await startSecureServer({ limits: { maxConnectionsPerIp: 2 } });
 * ```
 */
export async function startSecureServer(
  options: ServerOptions = {},
  dataDir?: string,
): Promise<SecureTestServer> {
  const own = dataDir === undefined;
  const dir = dataDir ?? await Deno.makeTempDir({ prefix: "nms-sec-" });
  const dbPath = join(dir, "nms.db");
  let server: RunningServer;
  try {
    server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      dbPath,
      workers: 1,
      adminPassword: "admin",
      log: silentLogger,
      sync: "normal",
      ...options,
    });
  } catch (error) {
    if (own) await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    server,
    port: server.addr.port,
    dataDir: dir,
    dbPath,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      if (own) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Test certificates, PEM text, generated with openssl at run time (no key is committed). */
export interface TestCertificates {
  /** CA that signs the server's and the client's certificates. */
  readonly caCert: string;
  /** Server certificate for `localhost` and 127.0.0.1, and its key. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate with CN and DNS name `web-01`, and its key. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate for `web-01` from another CA, and its key. */
  readonly rogueCert: string;
  readonly rogueKey: string;
  /** The directory holding them as files (`ca.pem`, `server.pem`, …). */
  readonly dir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const result = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!result.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(result.stderr)}`);
  }
}

/**
 * Generates a CA, a server certificate and client certificates with openssl.
 *
 * @returns The certificates; dispose to delete their directory.
 * @example
 * ```ts
 * await using certs = await makeTestCertificates();
 * ```
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "nms-certs-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const sign = (name: string, ca: string) =>
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ]);
  try {
    for (const ca of ["ca", "rogue-ca"]) {
      await openssl(dir, [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        `${ca}.key`,
        "-out",
        `${ca}.pem`,
        "-days",
        "2",
        "-subj",
        `/CN=${ca}`,
      ]);
    }
    const csr = (name: string, cn: string) =>
      openssl(dir, [
        "req",
        ...ec,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${cn}`,
      ]);
    await csr("server", "localhost");
    await Deno.writeTextFile(
      join(dir, "server.ext"),
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    );
    await sign("server", "ca");
    for (const [name, ca] of [["client", "ca"], ["rogue", "rogue-ca"]] as const) {
      await csr(name, "web-01");
      await Deno.writeTextFile(
        join(dir, `${name}.ext`),
        "extendedKeyUsage=clientAuth\nsubjectAltName=DNS:web-01\n",
      );
      await sign(name, ca);
    }
    const read = (file: string) => Deno.readTextFile(join(dir, file));
    return {
      caCert: await read("ca.pem"),
      serverCert: await read("server.pem"),
      serverKey: await read("server.key"),
      clientCert: await read("client.pem"),
      clientKey: await read("client.key"),
      rogueCert: await read("rogue.pem"),
      rogueKey: await read("rogue.key"),
      dir,
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

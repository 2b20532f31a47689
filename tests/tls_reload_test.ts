import assert from "node:assert/strict";
import { makeTestCertificates, startSecureServer } from "./_harness/secure_server.ts";
import { WELCOME_LINE } from "../protocol/mod.ts";

const decoder = new TextDecoder();

/** Connects over TLS trusting only `ca`, reads the welcome line, then closes. */
async function welcome(port: number, ca: string): Promise<string> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
  try {
    const buffer = new Uint8Array(256);
    const n = await conn.read(buffer);
    return decoder.decode(buffer.subarray(0, n ?? 0)).split("\n")[0]!;
  } finally {
    conn.close();
  }
}

async function consoleAnswers(url: string, ca: string): Promise<boolean> {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    const response = await fetch(`${url}/healthz`, { client });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

Deno.test("reloadTls() switches the agent port and the console to a new certificate; open connections keep working", async () => {
  await using before = await makeTestCertificates();
  await using after = await makeTestCertificates();
  await using srv = await startSecureServer({
    tls: { cert: before.serverCert, key: before.serverKey },
    agentTls: true,
    httpPort: 0,
  });
  const port = srv.port;
  const url = `https://localhost:${srv.server.httpAddr!.port}`;
  assert.equal(await welcome(port, before.caCert), WELCOME_LINE);
  assert.ok(await consoleAnswers(url, before.caCert));

  // A connection opened before the reload stays usable after it.
  const open = await Deno.connectTls({ hostname: "localhost", port, caCerts: [before.caCert] });
  const buffer = new Uint8Array(1024);
  await open.read(buffer);

  await srv.server.reloadTls({ cert: after.serverCert, key: after.serverKey });

  assert.equal(await welcome(port, after.caCert), WELCOME_LINE, "the new certificate is served");
  await assert.rejects(welcome(port, before.caCert), "the old CA no longer matches");
  assert.ok(await consoleAnswers(url, after.caCert), "the console serves the new certificate");
  assert.equal(await consoleAnswers(url, before.caCert), false);

  await open.write(new TextEncoder().encode("LOGIN admin admin\n"));
  const n = await open.read(buffer);
  assert.equal(decoder.decode(buffer.subarray(0, n ?? 0)), "ACK OK Login successful\n");
  open.close();
});

Deno.test("reloadTls() refuses an unusable certificate and keeps serving the old one", async () => {
  await using certs = await makeTestCertificates();
  await using srv = await startSecureServer({
    tls: { cert: certs.serverCert, key: certs.serverKey },
    agentTls: true,
  });
  await assert.rejects(srv.server.reloadTls({ cert: "not a certificate", key: certs.serverKey }));
  assert.equal(await welcome(srv.port, certs.caCert), WELCOME_LINE);
});

import assert from "node:assert/strict";
import { ASSETS, serveAsset } from "./assets.ts";

const CSS = ASSETS.get("/static/style.css")!;

function get(headers: Record<string, string>): Response {
  return serveAsset(CSS, new Request("http://console/static/style.css", { headers }));
}

async function gunzip(response: Response): Promise<string> {
  return await new Response(response.body!.pipeThrough(new DecompressionStream("gzip"))).text();
}

Deno.test("serveAsset() sends the gzipped body, with its own ETag, to a client that accepts gzip", async () => {
  const plain = get({});
  const zipped = get({ "accept-encoding": "br, gzip;q=0.8" });
  assert.equal(zipped.headers.get("content-encoding"), "gzip");
  assert.equal(zipped.headers.get("vary"), "Accept-Encoding");
  assert.notEqual(zipped.headers.get("etag"), plain.headers.get("etag"));
  assert.equal(plain.headers.get("content-encoding"), null);
  assert.equal(await gunzip(zipped), await plain.text());
  assert.ok(CSS.gzip!.body.length * 3 < CSS.body.length);
});

Deno.test("serveAsset() sends the plain body when gzip is refused with q=0 or not listed", () => {
  for (const header of ["gzip;q=0", "identity", "br", "*;q=0, deflate", "gzip; q=0.000"]) {
    assert.equal(get({ "accept-encoding": header }).headers.get("content-encoding"), null, header);
  }
  assert.equal(get({ "accept-encoding": "*" }).headers.get("content-encoding"), "gzip");
});

Deno.test("serveAsset() answers 304 to the ETag of the representation it would send", () => {
  const zippedTag = get({ "accept-encoding": "gzip" }).headers.get("etag")!;
  assert.equal(get({ "accept-encoding": "gzip", "if-none-match": zippedTag }).status, 304);
  assert.equal(get({ "if-none-match": zippedTag }).status, 200);
  assert.equal(get({ "if-none-match": CSS.etag }).status, 304);
});

Deno.test("the whole console gzipped is under 40% of its plain size", () => {
  let plain = 0;
  let zipped = 0;
  for (const asset of ASSETS.values()) {
    plain += asset.body.length;
    zipped += (asset.gzip ?? asset).body.length;
  }
  assert.ok(zipped < plain * 0.4, `${zipped} of ${plain} bytes`);
});

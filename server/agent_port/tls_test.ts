import assert from "node:assert/strict";
import { certificateNames } from "./tls.ts";

Deno.test("certificateNames() takes the subject CN and DNS alternative names, without duplicates", () => {
  assert.deepEqual(
    certificateNames({
      subject: { CN: "web-01" },
      subjectaltname: "DNS:web-01, IP Address:10.0.0.5, DNS:web-01.example.com",
    }),
    ["web-01", "web-01.example.com"],
  );
  assert.deepEqual(certificateNames({ subject: { CN: ["a", "b"] } }), ["a", "b"]);
  assert.deepEqual(certificateNames(null), []);
  assert.deepEqual(certificateNames({}), []);
});

import assert from "node:assert/strict";
import { addressKey, networkKey } from "./address_key.ts";

Deno.test("addressKey() counts IPv4 per address and IPv6 per /64", () => {
  assert.equal(addressKey("10.0.0.9"), "10.0.0.9");
  assert.equal(addressKey("::ffff:10.0.0.9"), "10.0.0.9");
  assert.equal(addressKey("2001:db8:1:2::5"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:0db8:0001:0002:ffff:1:2:3"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(addressKey("::ffff:1.2.3.4:5"), "::ffff:1.2.3.4:5", "unparsable: as it is");
  assert.equal(addressKey("unknown"), "unknown");
});

Deno.test("networkKey() groups IPv4 per /24 and IPv6 per /64", () => {
  assert.equal(networkKey("10.0.0.9"), "10.0.0.0/24");
  assert.equal(networkKey("127.0.1.77"), "127.0.1.0/24");
  assert.equal(networkKey("::ffff:192.168.4.5"), "192.168.4.0/24");
  assert.equal(networkKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(networkKey("64:ff9b::192.0.2.1"), "64:ff9b:0:0::/64");
});

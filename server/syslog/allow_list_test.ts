import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { DEFAULT_SYSLOG_ALLOW, parseAllowList, senderAddress } from "./allow_list.ts";

Deno.test("parseAllowList() matches IPv4 senders against CIDR networks", () => {
  const allow = parseAllowList(["10.0.0.0/8,192.168.0.0/16", "203.0.113.7"]);
  assertEquals(allow.allows("10.255.1.2"), true);
  assertEquals(allow.allows("192.168.44.1"), true);
  assertEquals(allow.allows("192.169.0.1"), false);
  assertEquals(allow.allows("203.0.113.7"), true);
  assertEquals(allow.allows("203.0.113.8"), false);
  assertEquals(allow.allows("11.0.0.1"), false);
});

Deno.test("parseAllowList() handles prefix lengths that are not a multiple of 8", () => {
  const allow = parseAllowList(["172.16.0.0/12", "198.51.100.128/25"]);
  assertEquals(allow.allows("172.31.255.255"), true);
  assertEquals(allow.allows("172.32.0.0"), false);
  assertEquals(allow.allows("198.51.100.200"), true);
  assertEquals(allow.allows("198.51.100.127"), false);
});

Deno.test("parseAllowList() matches IPv6 senders, compressed forms and zones included", () => {
  const allow = parseAllowList(["2001:db8::/32", "fe80::/10", "::1"]);
  assertEquals(allow.allows("2001:db8:0:1::42"), true);
  assertEquals(allow.allows("2001:0DB8:ffff:ffff:ffff:ffff:ffff:ffff"), true);
  assertEquals(allow.allows("2001:db9::1"), false);
  assertEquals(allow.allows("fe80::1%eth0"), true);
  assertEquals(allow.allows("::1"), true);
  assertEquals(allow.allows("::2"), false);
});

Deno.test("parseAllowList() lets IPv4 networks match IPv4-mapped IPv6 senders", () => {
  const allow = parseAllowList(["10.0.0.0/8"]);
  assertEquals(allow.allows("::ffff:10.1.2.3"), true);
  assertEquals(allow.allows("::ffff:11.1.2.3"), false);
});

Deno.test("parseAllowList() with 0.0.0.0/0 and ::/0 allows everyone", () => {
  const allow = parseAllowList(["0.0.0.0/0", "::/0"]);
  assertEquals(allow.allows("8.8.8.8"), true);
  assertEquals(allow.allows("2a00:1450::1"), true);
});

Deno.test("parseAllowList() default allows loopback only", () => {
  const allow = parseAllowList(DEFAULT_SYSLOG_ALLOW);
  assertEquals(allow.allows("127.0.0.1"), true);
  assertEquals(allow.allows("127.8.9.10"), true);
  assertEquals(allow.allows("::1"), true);
  assertEquals(allow.allows("10.0.0.1"), false);
  assertEquals(allow.allows("::ffff:127.0.0.1"), true);
});

Deno.test("parseAllowList() denies addresses it cannot parse", () => {
  const allow = parseAllowList(["0.0.0.0/0", "::/0"]);
  for (
    const bad of ["", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1::2::3", "gggg::1", ":1"]
  ) {
    assertEquals(allow.allows(bad), false, bad);
  }
});

Deno.test("parseAllowList() rejects invalid networks with the offending text", () => {
  assertThrows(
    () => parseAllowList(["10.0.0.0/33"]),
    /"10\.0\.0\.0\/33".*prefix length must be 0-32/,
  );
  assertThrows(() => parseAllowList(["::/129"]), /prefix length must be 0-128/);
  assertThrows(() => parseAllowList(["10.0.0.0/x"]), SyntaxError);
  assertThrows(() => parseAllowList(["example.com"]), /Invalid network "example.com"/);
  assertThrows(() => parseAllowList(["1.2.3.4/"]), SyntaxError);
  assertThrows(() => parseAllowList([" , "]), /no networks given/);
});

Deno.test("senderAddress() unmaps IPv4-mapped IPv6 addresses and drops zones", () => {
  assertEquals(senderAddress("::ffff:10.0.0.5"), "10.0.0.5");
  assertEquals(senderAddress("fe80::1%eth0"), "fe80::1");
  assertEquals(senderAddress("192.0.2.1"), "192.0.2.1");
  assertEquals(senderAddress("2001:db8::1"), "2001:db8::1");
});

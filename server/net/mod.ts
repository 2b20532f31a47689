/**
 * What the listeners share at the network's edge: the health of an accept
 * loop, the keys an address and its network are counted under, and warnings
 * throttled per key so a flood of refusals prints a few lines.
 *
 * @module
 */

export * from "./accept_health.ts";
export * from "./address_key.ts";
export * from "./warn_throttle.ts";

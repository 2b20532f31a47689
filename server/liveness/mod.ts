/**
 * Whether each node is alive: its status from its connection state, its
 * last heartbeat and the clock, and the in-memory set of connected nodes
 * whose lost connections are written in batches.
 *
 * @module
 */

export * from "./agent_liveness.ts";
export * from "./agent_status.ts";

/**
 * The NMS wire protocol: commands, their codec, the line splitter, the fixed
 * wire strings and the shared limits. Pure code without I/O, imported by the
 * server, the agent and the tests alike.
 *
 * @example
 * ```ts
 * import { formatAck, parseCommand } from "./mod.ts";
 * const parsed = parseCommand("HEARTBEAT 3600");
 * console.log(parsed.ok ? formatAck(true, "Heartbeat received") : parsed.reason);
 * ```
 *
 * @module
 */

export * from "./commands.ts";
export * from "./codec.ts";
export * from "./gap_event.ts";
export * from "./limits.ts";
export * from "./line_splitter.ts";
export * from "./messages.ts";
export * from "./severity.ts";
export * from "./ticket.ts";

/**
 * A followed path's incarnations after a restart: every saved incarnation is
 * looked for again (at the path, renamed among its siblings, copied or
 * compressed) and reopened at its acknowledged offset, or becomes a gap event
 * when it is nowhere; rotated siblings created and rotated away while the
 * agent was stopped are added after them, read from their start.
 *
 * @module
 */

import { basename } from "../_posix_path.ts";
import type { FileState, IncarnationState } from "../checkpoint/mod.ts";
import type { Logger } from "../log.ts";
import { fingerprintOf } from "./file_identity.ts";
import {
  type BornFile,
  fileKey,
  findBornWhileStopped,
  findIncarnation,
  openWhole,
} from "./find_rotated.ts";
import type { Incarnation, IncarnationFactory } from "./incarnation.ts";
import { RotatedCopy } from "./rotated_copy.ts";
import { newStreamId } from "./stream_id.ts";

/** Gap reason of a saved file that is nowhere after a restart. */
export const GAP_REASON_GONE =
  "the file was rotated and removed, truncated or replaced while the agent was stopped; " +
  "lines written before that may be missing too";
/** Gap reason of a rotated file that is nowhere after a restart. */
export const GAP_REASON_ROTATED_GONE = "rotated and removed while the agent was stopped";
/** Gap reason of a file created and rotated while the agent was stopped that cannot be read. */
export const GAP_REASON_BORN_UNREADABLE =
  "created and rotated while the agent was stopped, and cannot be opened or decompressed";

/** What {@linkcode restoreIncarnations} found. */
export interface RestoredIncarnations {
  /** Every incarnation to read, oldest first; the current one (if any) last. */
  readonly incarnations: Incarnation[];
  /** The saved incarnation the path still names, if any. */
  readonly current: Incarnation | undefined;
}

/** Where the saved positions come from and how to make incarnations. */
export interface RestoreOptions {
  /** The saved positions of the path. */
  readonly resume: FileState | undefined;
  /**
   * When they were saved, ms since the epoch; without it, rotated siblings
   * born while the agent was stopped are not looked for.
   */
  readonly savedAtMs: number | undefined;
  /** Makes the incarnations of the path. */
  readonly factory: IncarnationFactory;
  /** Where "resuming" and gap warnings go. */
  readonly logger: Logger;
}

/**
 * Finds the saved incarnations of a path again (see the module doc).
 *
 * @param path The followed path, absolute.
 * @param options Saved positions, factory and logger.
 * @returns The incarnations, oldest first, and the current one.
 * @example
 * ```ts
 * const { incarnations, current } = await restoreIncarnations("/var/log/syslog", {
 *   resume: saved, savedAtMs, factory, logger,
 * });
 * ```
 */
export async function restoreIncarnations(
  path: string,
  options: RestoreOptions,
): Promise<RestoredIncarnations> {
  const { factory, logger: log } = options;
  const incarnations: Incarnation[] = [];
  let current: Incarnation | undefined;
  const claimed = new Set<string>();
  const claimedPaths = new Set<string>();
  for (const entry of options.resume?.incarnations ?? []) {
    if (entry.lost !== undefined) {
      // Its gap event was not acknowledged before the stop: send it again
      // (the server drops it if it was stored after all).
      incarnations.push(factory.lost(entry, entry.lost, true));
      continue;
    }
    const found = await findIncarnation(path, entry, { claimed }).catch(() => undefined);
    if (found === undefined) {
      // A rotated file read to its end owes nothing; anything else is a gap.
      if (entry.rotated && entry.size <= entry.offset) continue;
      const reason = entry.rotated ? GAP_REASON_ROTATED_GONE : GAP_REASON_GONE;
      log.warn("file not found again after a restart, reporting a gap", {
        path,
        stream: entry.stream,
        offset: entry.offset,
        knownUnreadBytes: entry.size - entry.offset,
      });
      incarnations.push(factory.lost(entry, reason, !entry.rotated));
      continue;
    }
    claimed.add(fileKey(found.identity));
    claimedPaths.add(found.foundAt);
    const inc = factory.open(found.file, found.identity, {
      stream: entry.stream,
      offset: entry.offset,
      // A copy's end is final: what was seen beyond it is a gap at its end.
      knownSize: found.file instanceof RotatedCopy ? Math.max(found.size, entry.size) : found.size,
    });
    if (found.how === "same" && found.foundAt === path && current === undefined) {
      current = inc;
    } else {
      inc.rotated = true;
    }
    incarnations.push(inc);
    log.info("resuming file", {
      path,
      stream: entry.stream,
      offset: entry.offset,
      foundAt: found.foundAt,
      how: found.how,
    });
  }
  if (options.resume !== undefined && options.savedAtMs !== undefined) {
    const born = await findBornWhileStopped(path, {
      claimed,
      claimedPaths,
      modifiedAfterMs: options.savedAtMs,
    }).catch(() => []);
    for (const candidate of born) incarnations.push(await openBorn(path, candidate, options));
  }
  // The current file is read last, after what was rotated before it.
  if (current !== undefined && incarnations.at(-1) !== current) {
    incarnations.splice(incarnations.indexOf(current), 1);
    incarnations.push(current);
  }
  return { incarnations, current };
}

/**
 * A rotated sibling created and rotated away entirely while the agent was
 * stopped (two rotations during one stop), read from its start on a new
 * stream; one that cannot be opened or decompressed becomes a gap event
 * naming it.
 */
async function openBorn(
  path: string,
  candidate: BornFile,
  { factory, logger: log }: RestoreOptions,
): Promise<Incarnation> {
  const stream = newStreamId();
  const found = await openWhole(candidate).catch(() => undefined);
  if (found === undefined) {
    const info = await Deno.stat(candidate.path).catch(() => undefined);
    log.warn("file rotated while stopped cannot be read, reporting a gap", {
      path,
      rotatedFile: candidate.path,
      stream,
    });
    const entry: IncarnationState = {
      stream,
      dev: info?.dev ?? 0,
      ino: info?.ino ?? 0,
      fingerprint: await fingerprintOf(new Uint8Array(0)),
      fingerprintBytes: 0,
      offset: 0,
      size: info?.size ?? 0,
      rotated: true,
    };
    return factory.lost(entry, `${GAP_REASON_BORN_UNREADABLE} (${basename(candidate.path)})`, true);
  }
  const inc = factory.open(found.file, found.identity, { stream, knownSize: found.size });
  inc.rotated = true;
  log.info("reading a file created and rotated while the agent was stopped", {
    path,
    stream,
    foundAt: found.foundAt,
    how: found.how,
  });
  return inc;
}

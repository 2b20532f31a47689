/**
 * A child process of a test whose stderr is drained for its whole life (so it
 * never blocks on a full pipe) and kept for failure messages, and which can
 * be stopped with a signal whether or not it is still running.
 *
 * @module
 */

/** What {@linkcode watchChild} gives. */
export interface WatchedChild {
  /** Everything the child wrote to stderr so far (only the tail when bounded). */
  stderr(): string;
  /** Whether the child has exited. */
  exited(): boolean;
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Sends `signal` if the child still runs, then waits for it and its stderr. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Watches a child spawned with `stderr: "piped"`.
 *
 * @param child The child process.
 * @param options `onStderr` sees the text so far after each chunk; `maxStderrChars`
 *   keeps only the tail of a long-running child's output.
 * @returns The handle.
 * @example
 * ```ts
 * const watched = watchChild(child, { onStderr: (text) => text.includes("ready") && ready() });
 * await watched.stop("SIGTERM");
 * ```
 */
export function watchChild(
  child: Deno.ChildProcess,
  options: { onStderr?: (text: string) => void; maxStderrChars?: number } = {},
): WatchedChild {
  let text = "";
  const draining = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      options.onStderr?.(text);
      const max = options.maxStderrChars;
      if (max !== undefined && text.length > max) text = text.slice(-max / 2);
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    stderr: () => text,
    exited: () => exited,
    status,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // Already gone.
        }
      }
      const result = await status;
      await draining;
      return result;
    },
  };
}

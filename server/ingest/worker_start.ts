/**
 * Starting the ingest workers: each Worker module of this folder is spawned
 * the same way, and start-up waits until it has opened the store.
 *
 * @module
 */

/**
 * How long a worker may take to open the store before start-up fails, in ms,
 * counted from when its module has loaded.
 */
const WORKER_START_TIMEOUT_MS = 30_000;

/**
 * Starts the worker module `server/ingest/<name>.ts`, named after it.
 *
 * @param name The module's file name without `.ts`.
 * @returns The running worker.
 */
export function spawnWorker(name: "pool_worker" | "writer_worker"): Worker {
  return new Worker(new URL(`./${name}.ts`, import.meta.url).href, { type: "module", name });
}

/**
 * Sends `init` and waits for the worker to answer `ready`.
 *
 * Only the opening of the store is timed: the clock starts when the worker
 * says its module has loaded. Loading can take long the first time the code
 * runs from a new directory under `deno test`, which type checks a worker's
 * modules when the worker starts; a module that fails to load ends in an
 * error event, not in a wait.
 *
 * @param worker A worker whose module posts `loaded` once it listens.
 * @param init The init message; the worker answers `ready` or `init-failed`.
 * @param transfer Objects transferred with `init`.
 * @param timeoutMs How long opening the store may take once the module has loaded.
 * @returns Resolves on `ready`; rejects on `init-failed`, an error event or the timeout.
 */
export function ready(
  worker: Worker,
  init: unknown,
  transfer: Transferable[] = [],
  timeoutMs: number = WORKER_START_TIMEOUT_MS,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (message: string) => {
      clearTimeout(timer);
      reject(new Error(message));
    };
    worker.onmessage = (event: MessageEvent<{ kind: string; message?: string }>) => {
      switch (event.data.kind) {
        case "loaded":
          timer = setTimeout(
            () => fail(`Worker did not open the store within ${timeoutMs / 1000} s`),
            timeoutMs,
          );
          return;
        case "ready":
          clearTimeout(timer);
          resolve();
          return;
        default:
          fail(event.data.message ?? "Worker failed to start");
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail(event.message);
    };
    worker.postMessage(init, transfer);
  });
}

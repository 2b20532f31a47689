/**
 * `--alert-webhook URL`: each new or folded alert is POSTed as JSON to a URL
 * (a chat hook, a ticketing system). Sending never blocks ingest: notices go
 * to a bounded queue on the main thread and one request at a time is sent
 * from it, retried with capped exponential backoff. When the queue is full the
 * oldest notice is dropped and counted; updates of an alert still waiting in
 * the queue replace it instead of queueing again, so a flood folds here too.
 *
 * The URL may hold a secret token, so it is never logged.
 *
 * @module
 */

import type { AlertNotice } from "./alert_feed.ts";

/** Notices waiting to be sent at most; beyond it the oldest is dropped (and counted). */
export const WEBHOOK_QUEUE_CAPACITY = 1_000;

/** Attempts per notice before it is given up (and counted as failed). */
export const WEBHOOK_MAX_ATTEMPTS = 6;

/** Wait before the first retry, in ms; doubled after each failure. */
export const WEBHOOK_INITIAL_BACKOFF_MS = 500;

/** Longest wait between two attempts, in ms. */
export const WEBHOOK_MAX_BACKOFF_MS = 30_000;

/** Time one request may take, in ms, before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** Options of {@linkcode AlertWebhook}. */
export interface AlertWebhookOptions {
  /** Where to POST: an `http:` or `https:` URL. */
  readonly url: string;
  /**
   * Only alerts of at least this level are sent.
   * @default {0}
   */
  readonly minLevel?: number;
  /** @default {WEBHOOK_QUEUE_CAPACITY} */
  readonly capacity?: number;
  /** @default {WEBHOOK_MAX_ATTEMPTS} */
  readonly maxAttempts?: number;
  /** @default {WEBHOOK_INITIAL_BACKOFF_MS} */
  readonly initialBackoffMs?: number;
  /** @default {WEBHOOK_MAX_BACKOFF_MS} */
  readonly maxBackoffMs?: number;
  /** @default {WEBHOOK_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** Told when a notice is given up or dropped; the server logs it. */
  readonly onError?: (message: string) => void;
}

/** The JSON body of each POST. */
export interface WebhookPayload {
  /** `alert.created` for a new alert, `alert.updated` when its count rose. */
  readonly type: "alert.created" | "alert.updated";
  readonly alert: AlertNotice["alert"];
}

/**
 * Validates a webhook URL.
 *
 * @param url The value of `--alert-webhook`.
 * @returns The parsed URL.
 * @throws {TypeError} When it is not an absolute http(s) URL (the URL itself is not echoed).
 * @example
 * ```ts
 * webhookUrl("https://hooks.example.com/T000/B000");
 * ```
 */
export function webhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError("Invalid alert webhook: not an absolute URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`Invalid alert webhook: scheme ${parsed.protocol} (use http: or https:)`);
  }
  return parsed;
}

/**
 * Sends alert notices to a webhook.
 *
 * @example
 * ```ts
 * const hook = new AlertWebhook({ url: "https://hooks.example.com/nms" });
 * server.alerts.subscribe((notice) => hook.enqueue(notice));
 * await hook.close();
 * ```
 */
export class AlertWebhook {
  readonly #url: URL;
  readonly #minLevel: number;
  readonly #capacity: number;
  readonly #maxAttempts: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #timeoutMs: number;
  readonly #onError: (message: string) => void;
  /** Waiting notices by alert id, oldest first (a Map keeps insertion order). */
  readonly #queue = new Map<number, AlertNotice>();
  readonly #abort = new AbortController();
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #sent = 0;
  #dropped = 0;
  #failed = 0;

  /** @param options URL, filter, bounds and error sink. */
  constructor(options: AlertWebhookOptions) {
    this.#url = webhookUrl(options.url);
    this.#minLevel = options.minLevel ?? 0;
    this.#capacity = options.capacity ?? WEBHOOK_QUEUE_CAPACITY;
    this.#maxAttempts = options.maxAttempts ?? WEBHOOK_MAX_ATTEMPTS;
    this.#initialBackoffMs = options.initialBackoffMs ?? WEBHOOK_INITIAL_BACKOFF_MS;
    this.#maxBackoffMs = options.maxBackoffMs ?? WEBHOOK_MAX_BACKOFF_MS;
    this.#timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.#onError = options.onError ?? (() => {});
  }

  /** Notices delivered (answered with a 2xx status). */
  get sent(): number {
    return this.#sent;
  }

  /** Notices dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Notices given up after {@linkcode WEBHOOK_MAX_ATTEMPTS} failed attempts. */
  get failed(): number {
    return this.#failed;
  }

  /** Notices waiting to be sent. */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * Queues a notice; returns at once.
   *
   * @param notice A new or folded alert.
   */
  enqueue(notice: AlertNotice): void {
    if (this.#abort.signal.aborted || notice.alert.level < this.#minLevel) return;
    const waiting = this.#queue.get(notice.alert.id);
    if (waiting) {
      // Still unsent: send the newest state once; "created" stays if the first was.
      this.#queue.set(notice.alert.id, { alert: notice.alert, created: waiting.created });
      return;
    }
    if (this.#queue.size >= this.#capacity) {
      this.#queue.delete(this.#queue.keys().next().value!);
      if (this.#dropped++ === 0) {
        this.#onError("Alert webhook queue full: dropping the oldest alerts");
      }
    }
    this.#queue.set(notice.alert.id, notice);
    this.#running ??= this.#run().finally(() => this.#running = null);
  }

  async #run(): Promise<void> {
    while (this.#queue.size > 0 && !this.#abort.signal.aborted) {
      const [id, notice] = this.#queue.entries().next().value!;
      this.#queue.delete(id);
      const body = JSON.stringify(
        {
          type: notice.created ? "alert.created" : "alert.updated",
          alert: notice.alert,
        } satisfies WebhookPayload,
      );
      for (let attempt = 1;; attempt++) {
        const problem = await this.#post(body);
        if (problem === null) {
          this.#sent++;
          break;
        }
        if (this.#abort.signal.aborted) return;
        if (attempt >= this.#maxAttempts) {
          this.#failed++;
          this.#onError(
            `Alert webhook gave up on alert ${notice.alert.id} after ${attempt} attempts: ${problem}`,
          );
          break;
        }
        const backoff = Math.min(this.#initialBackoffMs * 2 ** (attempt - 1), this.#maxBackoffMs);
        await this.#sleep(backoff);
      }
    }
  }

  /** One POST; null on a 2xx answer, else what went wrong. */
  async #post(body: string): Promise<string | null> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    this.#abort.signal.addEventListener("abort", stop);
    const timer = setTimeout(stop, this.#timeoutMs);
    try {
      const response = await fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "nms-server" },
        body,
        signal: controller.signal,
      });
      await response.body?.cancel();
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      return controller.signal.aborted ? "timed out" : (error as Error).name;
    } finally {
      clearTimeout(timer);
      this.#abort.signal.removeEventListener("abort", stop);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => this.#wake = null);
  }

  /** Stops sending: the request in flight is aborted, waiting notices are dropped. Idempotent. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    this.#queue.clear();
    await this.#running;
  }
}

/**
 * `launchBrowser()`: the system's headless Chromium driven by playwright-core,
 * with a fresh profile in a temp directory, released with `await using`.
 * Playwright never downloads a browser here: it runs `/usr/bin/chromium`.
 *
 * @module
 */

import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, sandbox-free, offline headless run in a container. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Why browser tests cannot run here, or null when Chromium is installed.
 *
 * @returns The reason, for the test's name and `ignore`.
 * @example
 * ```ts
 * const reason = chromiumMissing();
 * Deno.test({ name: `console works${reason ? ` (ignored: ${reason})` : ""}`, ignore: reason !== null, fn });
 * ```
 */
export function chromiumMissing(): string | null {
  try {
    Deno.statSync(CHROMIUM_PATH);
    return null;
  } catch {
    return `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`;
  }
}

/** A running browser. */
export interface TestBrowser {
  readonly context: BrowserContext;
  /** Opens a tab. */
  newPage(): Promise<Page>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile.
 *
 * @param options Viewport size in CSS pixels.
 * @returns The browser; dispose it with `await using`.
 * @example
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.newPage();
 * ```
 */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "nms-chromium-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1440, height: 900 },
      colorScheme: "dark",
      acceptDownloads: true,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
  return {
    context,
    newPage: () => context.newPage(),
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}

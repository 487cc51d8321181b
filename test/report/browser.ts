import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** Debian's chromium, installed by .ci/run; playwright never downloads a browser here. */
export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = () => existsSync(CHROMIUM);

export interface Opened {
  page: Page;
  /** console errors, page errors, and any request that tried to leave the file. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Opens a local HTML file in a fresh headless chromium profile with the network cut off, so a
 * report that needs anything beyond itself fails the test instead of loading it.
 */
export async function openReport(file: string, viewport = { width: 1366, height: 768 }): Promise<Opened> {
  const profile = mkdtempSync(join(tmpdir(), "hub-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport,
    offline: true,
  });
  const errors: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  await context.route(/.*/, (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    errors.push(`network request: ${url}`);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  const browser: Browser | null = context.browser();
  return {
    page,
    errors,
    async close() {
      await context.close();
      await browser?.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

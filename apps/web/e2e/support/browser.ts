// A Chromium or Chrome found where people have one (support/find-browser.ts), driven by
// playwright-core. playwright gives every launch a fresh profile directory of its own.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { browserCandidates, findBrowser, noBrowserMessage } from "./find-browser";

export const SCREENSHOT_DIR = fileURLToPath(new URL("../../screenshots", import.meta.url));

// What this machine needs: no sandbox (tests run as root in containers), no GPU, and nothing that
// talks to the network on its own (tests talk only to 127.0.0.1).
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

const env = { CHROMIUM_PATH: process.env.CHROMIUM_PATH, PLAYWRIGHT_BROWSERS_PATH: process.env.PLAYWRIGHT_BROWSERS_PATH };

/** The paths searched, in order. */
export const BROWSER_CANDIDATES = browserCandidates({
  env,
  platform: process.platform,
  home: homedir(),
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
});

/** The browser the tests drive, or undefined when this machine has none. */
export const BROWSER_PATH = findBrowser(BROWSER_CANDIDATES, existsSync);

/** Set when no browser was found: what is missing and how to get it. */
export const NO_BROWSER = BROWSER_PATH === undefined ? noBrowserMessage(env) : undefined;

// CI must run every test: there a missing browser fails the run (global-setup.ts) instead of skipping.
export const IN_CI = process.env.CI !== undefined && !["", "0", "false"].includes(process.env.CI);

/** Why the browser suites are skipped here, or undefined when they run. */
export const BROWSER_SKIP_REASON = IN_CI ? undefined : NO_BROWSER;
/** Appended to a skipped suite's name, so that vitest's output says why. */
export const BROWSER_SKIP_NOTE = BROWSER_SKIP_REASON ? ` (skipped: ${BROWSER_SKIP_REASON})` : "";

export function launchBrowser(): Promise<Browser> {
  if (BROWSER_PATH === undefined) throw new Error(`Browser tests: ${NO_BROWSER}`);
  return chromium.launch({ executablePath: BROWSER_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * A separate browser profile (cookies, storage): one person. `beforeLoad` may watch the page
 * before it loads the app.
 */
export async function openPerson(
  browser: Browser,
  baseURL: string,
  options: BrowserContextOptions = {},
  beforeLoad?: (page: Page) => void,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
  beforeLoad?.(page);
  await page.goto("/");
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, animations: "disabled", caret: "hide" });
}

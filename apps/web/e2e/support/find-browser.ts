// Where a Chromium or Chrome is found on the machines people use. Pure functions: the file system
// and the environment are passed in, so the search is unit-tested (test/find-browser.test.ts)
// without depending on what this machine has installed.
import { join } from "node:path";

export interface BrowserSearchInput {
  /** CHROMIUM_PATH, PLAYWRIGHT_BROWSERS_PATH. */
  env: { CHROMIUM_PATH?: string; PLAYWRIGHT_BROWSERS_PATH?: string };
  platform: NodeJS.Platform;
  home: string;
  /** The names in a directory, or [] when it cannot be read. */
  list: (dir: string) => string[];
}

const SYSTEM_PATHS: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: [
    "/usr/bin/chromium", // Debian, Arch
    "/usr/bin/chromium-browser", // Ubuntu, Fedora
    "/snap/bin/chromium", // Ubuntu's snap
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
  ],
  darwin: [
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  ],
};

// Inside a Playwright cache's chromium-<revision> directory (the layout of `npx playwright install chromium`).
const PLAYWRIGHT_EXECUTABLES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ["chrome-linux/chrome", "chrome-linux64/chrome"],
  darwin: [
    "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
    "chrome-mac-arm64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
    "chrome-mac-x64/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
  ],
};

function playwrightCacheDir({ env, platform, home }: BrowserSearchInput): string {
  if (env.PLAYWRIGHT_BROWSERS_PATH) return env.PLAYWRIGHT_BROWSERS_PATH;
  return platform === "darwin" ? join(home, "Library", "Caches", "ms-playwright") : join(home, ".cache", "ms-playwright");
}

/**
 * The paths to try, in order. A CHROMIUM_PATH that is set is the only candidate: a path someone
 * chose and got wrong is reported, not quietly replaced by another browser.
 */
export function browserCandidates(input: BrowserSearchInput): string[] {
  if (input.env.CHROMIUM_PATH) return [input.env.CHROMIUM_PATH];
  const cache = playwrightCacheDir(input);
  // Newest revision first: names are chromium-<number>, compared as numbers.
  const revisions = input
    .list(cache)
    .filter((name) => /^chromium-\d+$/.test(name))
    .sort((a, b) => Number(b.slice("chromium-".length)) - Number(a.slice("chromium-".length)));
  const fromCache = revisions.flatMap((dir) => (PLAYWRIGHT_EXECUTABLES[input.platform] ?? []).map((exe) => join(cache, dir, exe)));
  return [...(SYSTEM_PATHS[input.platform] ?? []), ...fromCache];
}

/** The first candidate that exists, or undefined. */
export function findBrowser(candidates: readonly string[], exists: (path: string) => boolean): string | undefined {
  return candidates.find((path) => exists(path));
}

/** What to tell someone who has no browser the tests can use: one line, it goes into test names. */
export function noBrowserMessage(env: BrowserSearchInput["env"]): string {
  const why = env.CHROMIUM_PATH ? `CHROMIUM_PATH is set to ${env.CHROMIUM_PATH}, which does not exist` : "no Chromium or Chrome found";
  return `${why}; install one (Debian/Ubuntu: apt-get install chromium, Fedora: dnf install chromium, macOS: brew install --cask chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable`;
}

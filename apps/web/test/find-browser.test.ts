import { describe, expect, it } from "vitest";
import { browserCandidates, findBrowser, noBrowserMessage, type BrowserSearchInput } from "../e2e/support/find-browser";

function machine(overrides: Partial<BrowserSearchInput> & { dirs?: Record<string, string[]> } = {}): BrowserSearchInput {
  const { dirs = {}, ...rest } = overrides;
  return { env: {}, platform: "linux", home: "/home/ana", list: (dir) => dirs[dir] ?? [], ...rest };
}

/** The browser found when exactly these paths exist. */
function found(input: BrowserSearchInput, existing: string[]): string | undefined {
  return findBrowser(browserCandidates(input), (path) => existing.includes(path));
}

describe("finding a browser for the browser tests", () => {
  it("uses CHROMIUM_PATH before any browser installed in the usual places", () => {
    const input = machine({ env: { CHROMIUM_PATH: "/opt/my/chrome" } });
    expect(found(input, ["/usr/bin/chromium", "/opt/my/chrome"])).toBe("/opt/my/chrome");
  });

  it("does not replace a CHROMIUM_PATH that does not exist with another browser", () => {
    const input = machine({ env: { CHROMIUM_PATH: "/nonexistent" } });
    expect(found(input, ["/usr/bin/chromium"])).toBeUndefined();
  });

  it.each([
    ["Debian or Arch", "/usr/bin/chromium"],
    ["Ubuntu or Fedora", "/usr/bin/chromium-browser"],
    ["Ubuntu's snap", "/snap/bin/chromium"],
    ["Google Chrome", "/usr/bin/google-chrome"],
    ["Google Chrome's stable channel", "/usr/bin/google-chrome-stable"],
  ])("finds %s's browser on Linux at %s", (_, path) => {
    expect(found(machine(), [path])).toBe(path);
  });

  it.each([
    ["Chromium", "/Applications/Chromium.app/Contents/MacOS/Chromium"],
    ["Google Chrome", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"],
  ])("finds %s on macOS", (_, path) => {
    expect(found(machine({ platform: "darwin" }), [path])).toBe(path);
  });

  it("prefers the system's browser to Playwright's download", () => {
    const input = machine({ dirs: { "/home/ana/.cache/ms-playwright": ["chromium-1200"] } });
    expect(found(input, ["/home/ana/.cache/ms-playwright/chromium-1200/chrome-linux/chrome", "/usr/bin/chromium"])).toBe("/usr/bin/chromium");
  });

  it("finds the newest Chromium in Playwright's cache on Linux, ignoring its other browsers", () => {
    const input = machine({ dirs: { "/home/ana/.cache/ms-playwright": ["chromium-999", "firefox-1500", "chromium-1200", "chromium_headless_shell-1300"] } });
    const existing = ["/home/ana/.cache/ms-playwright/chromium-999/chrome-linux/chrome", "/home/ana/.cache/ms-playwright/chromium-1200/chrome-linux/chrome"];
    expect(found(input, existing)).toBe("/home/ana/.cache/ms-playwright/chromium-1200/chrome-linux/chrome");
  });

  it("finds Chromium in Playwright's cache on macOS", () => {
    const cache = "/Users/ana/Library/Caches/ms-playwright";
    const input = machine({ platform: "darwin", home: "/Users/ana", dirs: { [cache]: ["chromium-1200"] } });
    const path = `${cache}/chromium-1200/chrome-mac/Chromium.app/Contents/MacOS/Chromium`;
    expect(found(input, [path])).toBe(path);
  });

  it("looks in PLAYWRIGHT_BROWSERS_PATH instead of the default cache when it is set", () => {
    const input = machine({
      env: { PLAYWRIGHT_BROWSERS_PATH: "/srv/pw" },
      dirs: { "/srv/pw": ["chromium-1200"], "/home/ana/.cache/ms-playwright": ["chromium-1100"] },
    });
    const existing = ["/home/ana/.cache/ms-playwright/chromium-1100/chrome-linux/chrome", "/srv/pw/chromium-1200/chrome-linux/chrome"];
    expect(found(input, existing)).toBe("/srv/pw/chromium-1200/chrome-linux/chrome");
  });

  it("finds nothing on a machine without a browser", () => {
    expect(found(machine(), [])).toBeUndefined();
  });

  it("says how to get a browser when none is found", () => {
    expect(noBrowserMessage({})).toMatch(/^no Chromium or Chrome found; .*apt-get install chromium.* or set CHROMIUM_PATH/);
  });

  it("says which CHROMIUM_PATH does not exist", () => {
    expect(noBrowserMessage({ CHROMIUM_PATH: "/nonexistent" })).toMatch(/^CHROMIUM_PATH is set to \/nonexistent, which does not exist; /);
  });
});

// Before the browser tests: with no browser on this machine, say so once and skip the build (the
// suites skip themselves, support/browser.ts), except in CI, where a missing browser fails the run.
// Otherwise build the web app once, exactly as `pnpm build` does (in a child process, so that
// vitest's NODE_ENV=test cannot turn it into a development build).
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BROWSER_CANDIDATES, IN_CI, NO_BROWSER } from "./support/browser";

export default function setup(): void {
  if (NO_BROWSER !== undefined) {
    if (IN_CI) throw new Error(`Browser tests cannot run in CI: ${NO_BROWSER}. Searched: ${BROWSER_CANDIDATES.join(", ")}`);
    console.warn(`\nBrowser tests skipped: ${NO_BROWSER}.\nSearched: ${BROWSER_CANDIDATES.join(", ")}\n`);
    return;
  }
  const root = fileURLToPath(new URL("..", import.meta.url));
  const vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin", "vite.js");
  execFileSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
    cwd: root,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: "inherit",
    timeout: 120_000,
  });
}

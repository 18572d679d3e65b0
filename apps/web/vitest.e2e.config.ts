import { defineConfig } from "vitest/config";

// Browser tests: the built app, served by the real server on a fresh SQLite file, driven in
// Debian's Chromium through playwright-core. Files run one at a time: each starts servers and
// browsers, and argon2 hashing is CPU-heavy.
export default defineConfig({
  test: {
    include: ["e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});

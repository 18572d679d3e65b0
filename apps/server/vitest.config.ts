import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own servers and databases; argon2 is CPU-heavy, so keep files in sequence.
    fileParallelism: false,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // argon2 at OWASP cost and real SQLite files make some tests slower than a pure unit test.
    testTimeout: 30_000,
  },
});

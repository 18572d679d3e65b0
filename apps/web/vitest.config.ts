import { defineConfig } from "vitest/config";

// Unit tests: the client's pure logic, in Node. The browser suite has its own config (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Day boundaries in the tests are written in UTC.
    env: { TZ: "UTC" },
  },
});

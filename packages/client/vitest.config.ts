import { defineConfig } from "vitest/config";

// Unit tests of the pure logic, and test/integration: real Parley servers (SQLite files) with the
// package driving them over real HTTP and WebSocket connections, as a bot or a script would.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

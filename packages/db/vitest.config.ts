import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Several tests start tsx child processes or run the Prisma CLI, which take seconds each.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

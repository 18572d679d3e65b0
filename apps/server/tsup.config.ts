import { defineConfig } from "tsup";

// One ESM file per entry for production: the server (main) and the operator's commands (cli), each
// whole (no shared chunks). The workspace packages (TypeScript source, including the generated
// Prisma clients) are bundled; native addons and the Prisma runtime stay external and are
// therefore dependencies of this package.
export default defineConfig({
  entry: { main: "src/main.ts", cli: "src/cli.ts" },
  format: ["esm"],
  splitting: false,
  platform: "node",
  target: "node20",
  sourcemap: true,
  clean: true,
  noExternal: [/^@parley\//],
  external: ["argon2", "better-sqlite3", "pg", "sharp", /^@prisma\//],
  banner: {
    js: "import { createRequire as __parleyCreateRequire } from 'node:module'; const require = __parleyCreateRequire(import.meta.url);",
  },
});

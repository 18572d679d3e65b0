// Derives one Prisma schema per provider from prisma/models.prisma.
//   tsx scripts/schemas.ts write   writes them
//   tsx scripts/schemas.ts check   exits 1 when a committed schema differs from what write would write
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const providers = {
  sqlite: { url: "file:./unused.db" },
  postgresql: { url: "postgresql://localhost/unused" },
} as const;

function schemaFor(provider: keyof typeof providers): string {
  const models = readFileSync(join(root, "prisma/models.prisma"), "utf8");
  return `// GENERATED from ../models.prisma by scripts/schemas.ts - edit that file, not this one.
// The url is never used: the application and the CLI connect through driver adapters.

generator client {
  provider     = "prisma-client"
  output       = "../../generated/${provider}"
  engineType   = "client"
  moduleFormat = "esm"
}

datasource db {
  provider = "${provider}"
  url      = "${providers[provider].url}"
}

${models}`;
}

const mode = process.argv[2];
let drifted = false;
for (const provider of Object.keys(providers) as (keyof typeof providers)[]) {
  const path = join(root, "prisma", provider, "schema.prisma");
  const expected = schemaFor(provider);
  if (mode === "write") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, expected);
  } else {
    let actual = "";
    try {
      actual = readFileSync(path, "utf8");
    } catch {
      actual = "";
    }
    if (actual !== expected) {
      console.error(`prisma/${provider}/schema.prisma is out of date: run pnpm --filter @parley/db generate`);
      drifted = true;
    }
  }
}
if (mode !== "write" && mode !== "check") {
  console.error("usage: tsx scripts/schemas.ts write|check");
  process.exit(2);
}
process.exit(drifted ? 1 : 0);

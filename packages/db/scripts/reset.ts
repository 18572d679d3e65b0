// Development reset: empties the database named by DATABASE_URL and applies the migrations.
//   pnpm db:reset
// SQLite: deletes the file (with its -wal and -shm); PostgreSQL: drops and recreates the public schema.
// A relative SQLite path is taken from the repository root, where the default file lives.
import { rmSync, mkdirSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { migrate } from "../src/migrate.js";
import { providerOf, sqlitePath } from "../src/provider.js";

if (process.env.NODE_ENV === "production") {
  console.error("refusing to reset the database: NODE_ENV is production");
  process.exit(1);
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const url = process.env.DATABASE_URL || "file:./data/parley.db";

if (providerOf(url) === "sqlite") {
  const relative = sqlitePath(url);
  const path = isAbsolute(relative) ? relative : join(repoRoot, relative);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
  mkdirSync(dirname(path), { recursive: true });
  const { applied } = await migrate(`file:${path}`);
  console.log(`reset ${path}; applied ${applied.join(", ")}`);
} else {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("DROP SCHEMA IF EXISTS public CASCADE");
    await client.query("CREATE SCHEMA public");
  } finally {
    await client.end();
  }
  const { applied } = await migrate(url);
  console.log(`reset the public schema of ${new URL(url).pathname.slice(1)}; applied ${applied.join(", ")}`);
}

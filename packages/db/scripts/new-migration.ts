// Writes a new migration for both providers: the SQL that takes a database from what the committed
// migrations produce to prisma/<provider>/schema.prisma.
//   pnpm --filter @parley/db migration:new <name>
// The PostgreSQL side needs a server for its scratch database: CHECK_POSTGRES_URL or TEST_DATABASE_URL.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { migrationsDir, readMigrations } from "../src/migrate.js";
import type { Provider } from "../src/provider.js";
import { fixSqliteMessageId, packageRoot, pendingChanges, postgresServerUrl, providers, schemaPath } from "./migration-state.js";

function refuse(message: string): never {
  console.error(message);
  process.exit(1);
}

const name = process.argv[2] ?? "";
if (!/^[a-z0-9]+(_[a-z0-9]+)*$/.test(name)) {
  refuse("usage: pnpm --filter @parley/db migration:new <name>   (snake_case, e.g. add_user_bio)");
}
if (!postgresServerUrl()) {
  refuse("set CHECK_POSTGRES_URL or TEST_DATABASE_URL to a PostgreSQL server: every migration is written for both providers");
}

// The diff targets the derived schemas, so they must match prisma/models.prisma first.
const schemas = spawnSync(process.execPath, ["--import", "tsx", join(packageRoot, "scripts", "schemas.ts"), "check"], {
  cwd: packageRoot,
  stdio: "inherit",
});
if (schemas.status !== 0) refuse("the derived schemas are out of date: run pnpm --filter @parley/db generate first");

const folder = `${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${name}`;
for (const provider of providers) {
  const newest = readMigrations(provider).at(-1)?.name;
  // The migrator applies migrations in name order, so a new one must sort last.
  if (newest !== undefined && folder <= newest) refuse(`${folder} would sort before the newest migration ${newest}`);
}

async function missingSql(provider: Provider): Promise<string> {
  const sql = await pendingChanges(provider, schemaPath(provider));
  return provider === "sqlite" ? fixSqliteMessageId(sql) : sql;
}

const written: string[] = [];
try {
  const changes = new Map<Provider, string>();
  for (const provider of providers) changes.set(provider, await missingSql(provider));
  if ([...changes.values()].every((sql) => sql === "")) {
    refuse("the migrations already produce the schema: change prisma/models.prisma and run generate first");
  }
  for (const [provider, sql] of changes) {
    if (sql === "") {
      console.warn(`${provider}: no change, so no migration`);
      continue;
    }
    const dir = join(migrationsDir(provider), folder);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "migration.sql"), sql);
    written.push(dir);
    console.log(`wrote prisma/${provider}/migrations/${folder}/migration.sql`);
  }
  for (const provider of providers) {
    const left = await pendingChanges(provider, schemaPath(provider));
    if (left !== "") throw new Error(`${provider}: the new migration does not reach the schema; still missing:\n${left}`);
  }
} catch (error) {
  for (const dir of written) rmSync(dir, { recursive: true, force: true });
  refuse(`no migration written: ${error instanceof Error ? error.message : String(error)}`);
}

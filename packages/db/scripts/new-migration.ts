// Writes a new migration for both providers: the SQL that takes a database from what the committed
// migrations produce to prisma/<provider>/schema.prisma.
//   CHECK_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres pnpm --filter @parley/db migration:new <name>
// It needs a running PostgreSQL server (CHECK_POSTGRES_URL, else TEST_DATABASE_URL) on which it may
// create and drop a scratch database: the committed migrations are applied there to learn what they
// produce, and the Prisma CLI's `migrate diff` connects to a database even to compare two schema
// files (no offline path was found, see /work/shared/notes/toolchain.md). SQLite needs nothing.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
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
const NEEDS_POSTGRES =
  "migration:new writes every migration for both providers, and the PostgreSQL one is computed on a scratch database: " +
  "set CHECK_POSTGRES_URL (or TEST_DATABASE_URL) to a PostgreSQL server where it may create and drop a database, " +
  "e.g. CHECK_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres";

const serverUrl = postgresServerUrl();
if (!serverUrl) refuse(NEEDS_POSTGRES);
const server = URL.parse(serverUrl);
if (!server || !["postgres:", "postgresql:"].includes(server.protocol)) refuse(`the PostgreSQL server's URL is not a postgresql:// URL. ${NEEDS_POSTGRES}`);
// Asked first, so an unreachable server is reported before any work, not as a failure of the Prisma CLI.
const probe = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
try {
  await probe.connect();
  await probe.query("SELECT 1");
} catch (error) {
  refuse(`cannot reach the PostgreSQL server at ${server.hostname || "localhost"}:${server.port || "5432"} (${error instanceof Error ? error.message : String(error)}). ${NEEDS_POSTGRES}`);
} finally {
  await probe.end().catch(() => undefined);
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

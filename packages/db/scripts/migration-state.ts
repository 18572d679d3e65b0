// What the committed migrations produce, compared with a schema, offline.
//
// `prisma migrate diff --from-migrations` cannot run offline here, so the migrations are applied to
// a scratch database with the start-up migrator, the result is introspected with `prisma db pull`,
// and that datamodel is diffed against the schema with `prisma migrate diff`.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { migrate } from "../src/migrate.js";
import { sqlitePath, type Provider } from "../src/provider.js";

export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
export const providers: readonly Provider[] = ["sqlite", "postgresql"];

export function schemaPath(provider: Provider): string {
  return join(packageRoot, "prisma", provider, "schema.prisma");
}

/** The server on which scratch PostgreSQL databases are created, or undefined when none is named. */
export function postgresServerUrl(): string | undefined {
  return process.env.CHECK_POSTGRES_URL || process.env.TEST_DATABASE_URL || undefined;
}

const cliConfig: Record<Provider, string> = {
  sqlite: join(packageRoot, "prisma.sqlite.config.ts"),
  postgresql: join(packageRoot, "scripts", "postgresql.config.ts"),
};

/** The CLI connects through the config's adapter to the database at url. */
function cliEnv(provider: Provider, url: string): Record<string, string> {
  return provider === "sqlite" ? { PRISMA_CLI_SQLITE_URL: url } : { PRISMA_CLI_POSTGRES_URL: url };
}

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function prisma(args: string[], env: Record<string, string> = {}): CliResult {
  const cli = join(packageRoot, "node_modules", "prisma", "build", "index.js");
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function cliError(command: string, result: CliResult): Error {
  return new Error(`prisma ${command} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
}

/** Applies the migrations to a new scratch database, hands its URL to `use`, then removes it. */
async function withMigratedScratchDatabase<T>(
  provider: Provider,
  migrationsDir: string | undefined,
  use: (url: string) => T | Promise<T>,
): Promise<T> {
  if (provider === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "parley-migrations-"));
    try {
      const url = `file:${join(dir, "scratch.db")}`;
      await migrate(url, migrationsDir);
      return await use(url);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const serverUrl = postgresServerUrl();
  if (!serverUrl) throw new Error("no PostgreSQL server to migrate: set CHECK_POSTGRES_URL or TEST_DATABASE_URL");
  const name = `parley_check_${randomBytes(6).toString("hex")}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    try {
      await migrate(url.toString(), migrationsDir);
      return await use(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

const datasourceOnly: Record<Provider, string> = {
  sqlite: `datasource db {\n  provider = "sqlite"\n  url      = "file:./unused.db"\n}\n`,
  postgresql: `datasource db {\n  provider = "postgresql"\n  url      = "postgresql://localhost/unused"\n}\n`,
};

/** The datamodel that `prisma db pull` reads from the database at url. */
function pullSchema(provider: Provider, url: string): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-pull-"));
  try {
    // Pulling onto a datasource-only schema keeps the committed schema out of the introspection.
    const base = join(dir, "schema.prisma");
    writeFileSync(base, datasourceOnly[provider]);
    const result = prisma(["db", "pull", "--print", "--config", cliConfig[provider], "--schema", base], cliEnv(provider, url));
    // With a driver adapter configured the CLI prints a warning on stdout ahead of the schema.
    const start = result.stdout.search(/^datasource /m);
    if (result.status !== 0 || start === -1) throw cliError("db pull", result);
    const pulled = result.stdout.slice(start);
    return provider === "sqlite" ? withoutVirtualTableShadows(normaliseSqliteMessageId(pulled), url) : pulled;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The search index's own plain table, written by hand with it (src/search-indexer.ts). */
const SEARCH_TABLES = ["MessageSearchState"];

/** The tables SQLite's FTS5 keeps for each virtual table (its index and settings). */
const FTS5_SHADOW_TABLES = ["config", "content", "data", "docsize", "idx"];

/**
 * Drops the models of virtual tables (the full-text indexes of message search, written by hand in
 * their migration), of the tables each keeps for itself and of the indexer's state: Prisma
 * introspects them as plain tables, which the schema does not and cannot have.
 */
function withoutVirtualTableShadows(pulled: string, url: string): string {
  const db = new Database(sqlitePath(url), { readonly: true });
  let virtual: string[];
  try {
    virtual = db.prepare<[], string>(`SELECT "name" FROM "sqlite_master" WHERE "type" = 'table' AND "sql" LIKE 'CREATE VIRTUAL TABLE%'`).pluck().all();
  } finally {
    db.close();
  }
  const hidden = new Set([...virtual.flatMap((name) => [name, ...FTS5_SHADOW_TABLES.map((suffix) => `${name}_${suffix}`)]), ...SEARCH_TABLES]);
  return pulled.replace(/^model (\w+) \{[^}]*\}\n*/gm, (model, name: string) => (hidden.has(name) ? "" : model));
}

const INTROSPECTED_MESSAGE_ID = /(model Message \{[^}]*?\n\s*id\s+)Int(\s+@id\s+@default\(autoincrement\(\)\))/;

/**
 * SQLite introspection reports `INTEGER PRIMARY KEY AUTOINCREMENT` as Int, while the model says
 * BigInt (the column is a 64-bit rowid either way). Anything else in Message.id is a real drift.
 */
function normaliseSqliteMessageId(pulled: string): string {
  if (!INTROSPECTED_MESSAGE_ID.test(pulled)) {
    throw new Error(
      'the migrated SQLite database has no Message.id "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT" column ' +
        "(a migration that creates the Message table must declare it so)",
    );
  }
  return pulled.replace(INTROSPECTED_MESSAGE_ID, "$1BigInt$2");
}

/**
 * The SQL that takes a database from the `from` datamodel to the `to` one; "" when there is none.
 * url: a database the CLI can connect to (it does so even though it only compares the two files).
 */
function diffSchemas(provider: Provider, from: string, to: string, url: string): string {
  const result = prisma(
    ["migrate", "diff", "--config", cliConfig[provider], "--from-schema-datamodel", from, "--to-schema-datamodel", to, "--script", "--exit-code"],
    cliEnv(provider, url),
  );
  // --exit-code: 0 means no difference, 2 means the script has changes.
  if (result.status === 0) return "";
  if (result.status === 2) return result.stdout;
  throw cliError("migrate diff", result);
}

/** The SQL still needed after the migrations in migrationsDir to reach the schema at targetSchema. */
export function pendingChanges(provider: Provider, targetSchema: string, migrationsDir?: string): Promise<string> {
  return withMigratedScratchDatabase(provider, migrationsDir, (url) => {
    const dir = mkdtempSync(join(tmpdir(), "parley-pulled-"));
    try {
      const pulled = join(dir, "schema.prisma");
      writeFileSync(pulled, pullSchema(provider, url));
      return diffSchemas(provider, pulled, targetSchema, url);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Prisma writes `"id" BIGINT NOT NULL PRIMARY KEY` for Message.id on SQLite, which is not a rowid
 * alias and so never auto-increments. Every statement that (re)creates Message needs the rowid form.
 */
export function fixSqliteMessageId(sql: string): string {
  return sql.replace(/CREATE TABLE "(?:new_)?Message" \([^;]*?\);/g, (statement) =>
    statement.replace('"id" BIGINT NOT NULL PRIMARY KEY', '"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT'),
  );
}

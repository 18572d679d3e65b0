// Applies the committed migrations of prisma/<provider>/migrations at start-up.
//
// Prisma's own `migrate deploy` needs a schema engine that cannot run offline against PostgreSQL
// here, so the server applies the same SQL itself: each pending migration in its own transaction,
// recorded in Prisma's `_prisma_migrations` table layout (so `prisma migrate status` agrees), and
// under a lock so that several instances starting at once apply each migration exactly once.
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import pg from "pg";
import { providerOf, sqlitePath, type Provider } from "./provider.js";

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
}

// Resolved by package name, so it also holds when this code is bundled into another package.
const packageRoot = dirname(createRequire(import.meta.url).resolve("@parley/db/package.json"));

export function migrationsDir(provider: Provider): string {
  return join(packageRoot, "prisma", provider, "migrations");
}

export function readMigrations(provider: Provider, dir = migrationsDir(provider)): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

export async function migrate(url: string, dir?: string): Promise<MigrateResult> {
  const provider = providerOf(url);
  const migrations = readMigrations(provider, dir);
  return provider === "sqlite" ? migrateSqlite(sqlitePath(url), migrations) : migratePostgres(url, migrations);
}

class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

function checkApplied(migrations: Migration[], applied: Map<string, string>): Migration[] {
  for (const [name, checksum] of applied) {
    const local = migrations.find((m) => m.name === name);
    if (!local) throw new MigrationError(`the database has migration ${name}, which this build does not know`);
    if (local.checksum !== checksum) throw new MigrationError(`migration ${name} was changed after it was applied`);
  }
  return migrations.filter((m) => !applied.has(m.name));
}

const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "checksum" TEXT NOT NULL,
  "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL,
  "logs" TEXT,
  "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

/** How long a SQLite migrator waits for another one (or any writer) before giving up. */
const SQLITE_WAIT_MS = 10_000;

async function migrateSqlite(path: string, migrations: Migration[]): Promise<MigrateResult> {
  const db = new Database(path, { timeout: SQLITE_WAIT_MS });
  try {
    await enableWal(db);
    // Prisma rebuilds a changed SQLite table (copy, DROP, rename) between `PRAGMA foreign_keys=OFF`
    // and `=ON`, but those are no-ops inside the transaction below. With enforcement on, dropping a
    // referenced table (User, say) would cascade-delete every row that references it, so it is
    // switched off for this connection and the result checked before commit instead.
    db.pragma("foreign_keys = OFF");
    // IMMEDIATE takes the write lock up front: a second process waits here (busy timeout) and then
    // sees the first one's work as already applied.
    const run = db.transaction(() => {
      db.exec(SQLITE_TABLE);
      const rows = db
        .prepare(`SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`)
        .all() as { migration_name: string; checksum: string }[];
      const pending = checkApplied(migrations, new Map(rows.map((r) => [r.migration_name, r.checksum])));
      for (const m of pending) {
        db.exec(m.sql);
        db.prepare(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES (?, ?, ?, ?, ?, 1)`,
        ).run(randomUUID(), m.checksum, Date.now(), m.name, Date.now());
      }
      const violations = db.pragma("foreign_key_check") as unknown[];
      if (violations.length > 0) throw new MigrationError(`the migrations leave ${violations.length} rows with broken foreign keys`);
      return pending.map((m) => m.name);
    });
    return { applied: run.immediate() };
  } finally {
    db.close();
  }
}

/**
 * Switching a new file to WAL needs an exclusive lock, and when two processes try at once SQLite
 * fails one with SQLITE_BUSY straight away instead of waiting (the busy timeout does not apply to
 * a lock upgrade that could deadlock), so the switch is retried here.
 */
async function enableWal(db: Database.Database): Promise<void> {
  const deadline = Date.now() + SQLITE_WAIT_MS;
  for (;;) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code === "SQLITE_BUSY";
      if (!busy || Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

const POSTGRES_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** Any fixed 64-bit number, the same in every instance: the key of the migration advisory lock. */
const POSTGRES_MIGRATION_LOCK = 72_707_369;

async function migratePostgres(url: string, migrations: Migration[]): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [POSTGRES_MIGRATION_LOCK]);
    await client.query(POSTGRES_TABLE);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const pending = checkApplied(migrations, new Map(rows.map((r) => [r.migration_name, r.checksum])));
    for (const m of pending) {
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
    return { applied: pending.map((m) => m.name) };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [POSTGRES_MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}

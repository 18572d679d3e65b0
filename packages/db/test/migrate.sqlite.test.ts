import { cpSync, appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate, migrationsDir, readMigrations, type MigrateResult } from "../src/migrate.js";
import { sqlitePath } from "../src/provider.js";
import { newSqliteUrl, runScript, tempDir } from "./support.js";

interface Recorded {
  migration_name: string;
  checksum: string;
  finished_at: number | null;
}

function recorded(url: string): Recorded[] {
  const db = new Database(sqlitePath(url), { readonly: true });
  try {
    return db.prepare(`SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`).all() as Recorded[];
  } finally {
    db.close();
  }
}

const committed = readMigrations("sqlite");

describe("SQLite migrator", () => {
  it("applies every migration to a new SQLite file and records each one", async () => {
    const url = newSqliteUrl();

    const result = await migrate(url);

    expect(result.applied).toEqual(committed.map((m) => m.name));
    expect(recorded(url)).toEqual(committed.map((m) => ({ migration_name: m.name, checksum: m.checksum, finished_at: expect.any(Number) })));
  });

  it("applies nothing on a second run and keeps the data", async () => {
    const url = newSqliteUrl();
    await migrate(url);
    const db = new Database(sqlitePath(url));
    db.prepare(`INSERT INTO "User" (id, username, passwordHash) VALUES ('u1', 'alice', 'x')`).run();
    db.close();

    const again = await migrate(url);

    expect(again.applied).toEqual([]);
    const check = new Database(sqlitePath(url), { readonly: true });
    expect(check.prepare(`SELECT username FROM "User"`).all()).toEqual([{ username: "alice" }]);
    check.close();
  });

  it("applies each migration once when two processes migrate the same new file at the same moment", async () => {
    const url = newSqliteUrl();
    const startAt = String(Date.now() + 2_000);

    const runs = await Promise.all([runScript("test/fixtures/migrate-at.ts", [url, startAt]), runScript("test/fixtures/migrate-at.ts", [url, startAt])]);

    for (const run of runs) expect(run.stderr).toBe("");
    const applied = runs.flatMap((run) => (JSON.parse(run.stdout) as MigrateResult).applied);
    expect(applied.sort()).toEqual(committed.map((m) => m.name));
    expect(recorded(url).map((r) => r.migration_name)).toEqual(committed.map((m) => m.name));
  });

  it("refuses a migration that was changed after it was applied", async () => {
    const dir = join(tempDir(), "migrations");
    cpSync(migrationsDir("sqlite"), dir, { recursive: true });
    const url = newSqliteUrl();
    await migrate(url, dir);
    const first = readdirSync(dir).sort()[0] ?? "";
    appendFileSync(join(dir, first, "migration.sql"), "\n-- edited afterwards\n");

    await expect(migrate(url, dir)).rejects.toThrow(`migration ${first} was changed after it was applied`);
  });
});

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { readMigrations } from "../src/migrate.js";
import { runScript, tempDir } from "./support.js";

describe("scripts", () => {
  it("schemas check passes: the derived schemas match prisma/models.prisma", async () => {
    const result = await runScript("scripts/schemas.ts", ["check"]);

    expect(result).toMatchObject({ code: 0, stderr: "" });
  });

  it("reset refuses to run when NODE_ENV is production", async () => {
    const path = join(tempDir(), "keep.db");
    writeFileSync(path, "");

    const result = await runScript("scripts/reset.ts", [], { NODE_ENV: "production", DATABASE_URL: `file:${path}` });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("refusing to reset the database: NODE_ENV is production");
    expect(existsSync(path)).toBe(true);
  });

  it("reset replaces a SQLite database with a freshly migrated one", async () => {
    const path = join(tempDir(), "dev.db");
    const old = new Database(path);
    old.exec("CREATE TABLE leftover (x INTEGER)");
    old.close();

    const result = await runScript("scripts/reset.ts", [], { NODE_ENV: "development", DATABASE_URL: `file:${path}` });

    expect(result.code).toBe(0);
    const db = new Database(path, { readonly: true });
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
    const applied = db.prepare(`SELECT migration_name FROM "_prisma_migrations"`).all() as { migration_name: string }[];
    db.close();
    expect(tables.map((t) => t.name)).not.toContain("leftover");
    expect(applied.map((m) => m.migration_name)).toEqual(readMigrations("sqlite").map((m) => m.name));
  });

  it("migration:new refuses at once, saying what it needs, when no PostgreSQL server is named", async () => {
    const before = readMigrations("sqlite").length;

    const result = await runScript("scripts/new-migration.ts", ["add_probe"], { CHECK_POSTGRES_URL: "", TEST_DATABASE_URL: "" });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("set CHECK_POSTGRES_URL (or TEST_DATABASE_URL) to a PostgreSQL server");
    expect(readMigrations("sqlite")).toHaveLength(before);
  });

  it("migration:new refuses at once when the named PostgreSQL server cannot be reached", async () => {
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    const result = await runScript("scripts/new-migration.ts", ["add_probe"], { CHECK_POSTGRES_URL: "postgresql://postgres:hunter2@127.0.0.1:1/postgres" });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot reach the PostgreSQL server at 127.0.0.1:1");
    expect(result.stderr).not.toContain("hunter2");
  });
});

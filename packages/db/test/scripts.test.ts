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
});

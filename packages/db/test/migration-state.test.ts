import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate, migrationsDir } from "../src/migrate.js";
import { sqlitePath } from "../src/provider.js";
import { fixSqliteMessageId, pendingChanges, schemaPath } from "../scripts/migration-state.js";
import { newSqliteUrl, tempDir } from "./support.js";

/** A copy of the committed SQLite migrations and schema, with `edit` applied to the schema. */
function editedCopy(edit: (schema: string) => string): { migrations: string; schema: string } {
  const dir = tempDir();
  const migrations = join(dir, "migrations");
  cpSync(migrationsDir("sqlite"), migrations, { recursive: true });
  const committed = readFileSync(schemaPath("sqlite"), "utf8");
  const edited = edit(committed);
  expect(edited).not.toBe(committed);
  const schema = join(dir, "schema.prisma");
  writeFileSync(schema, edited);
  return { migrations, schema };
}

function addMigration(migrations: string, name: string, sql: string): void {
  mkdirSync(join(migrations, name));
  writeFileSync(join(migrations, name, "migration.sql"), sql);
}

describe("migration state (SQLite)", () => {
  it("the committed migrations produce prisma/sqlite/schema.prisma", async () => {
    expect(await pendingChanges("sqlite", schemaPath("sqlite"))).toBe("");
  });

  it("reports a field that no migration creates", async () => {
    const copy = editedCopy((schema) => schema.replace("  passwordHash String\n", "  passwordHash String\n  bio          String?\n"));

    expect(await pendingChanges("sqlite", copy.schema, copy.migrations)).toContain('ADD COLUMN "bio"');
  });

  it("a new migration that rebuilds Message keeps its id auto-incrementing", async () => {
    const copy = editedCopy((schema) => schema.replace("  content         String\n", '  content         String   @default("")\n'));

    const sql = fixSqliteMessageId(await pendingChanges("sqlite", copy.schema, copy.migrations));
    addMigration(copy.migrations, "29990101000000_rebuild_message", sql);

    expect(sql).toContain('CREATE TABLE "new_Message"');
    expect(sql).toContain('"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT');
    expect(await pendingChanges("sqlite", copy.schema, copy.migrations)).toBe("");
  });

  it("a migration that rebuilds User keeps the messages that reference it", async () => {
    const copy = editedCopy((schema) => schema.replace('  fullName     String   @default("")\n', '  fullName     String   @default("-")\n'));
    const url = newSqliteUrl();
    await migrate(url, copy.migrations);
    const db = new Database(sqlitePath(url));
    db.exec(`INSERT INTO "User" (id, username, passwordHash) VALUES ('u1', 'alice', 'x');
             INSERT INTO "Conversation" (id) VALUES ('c1');
             INSERT INTO "Message" (conversationId, senderId, content, clientMessageId) VALUES ('c1', 'u1', 'hi', 'm1');`);
    db.close();

    addMigration(copy.migrations, "29990101000000_rebuild_user", await pendingChanges("sqlite", copy.schema, copy.migrations));
    await migrate(url, copy.migrations);

    const after = new Database(sqlitePath(url), { readonly: true });
    expect(after.prepare(`SELECT content FROM "Message"`).all()).toEqual([{ content: "hi" }]);
    after.close();
  });
});

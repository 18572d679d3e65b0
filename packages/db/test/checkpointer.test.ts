// SQLite checkpoints run on a worker thread, not inside the server's commits.
import { statSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { startCheckpointer } from "../src/checkpointer.js";
import { openDatabase } from "../src/client.js";
import { migrate } from "../src/migrate.js";
import { sqlitePath } from "../src/provider.js";
import { newSqliteUrl, seedConversation } from "./support.js";

/** A better-sqlite3 connection in WAL mode to a new migrated file, closed after the test. */
async function walConnection(): Promise<BetterSqlite3.Database> {
  const url = newSqliteUrl();
  await migrate(url);
  const connection = new BetterSqlite3(sqlitePath(url));
  connection.pragma("journal_mode = WAL");
  onTestFinished(() => {
    connection.close();
  });
  return connection;
}

describe("the SQLite checkpoint worker", () => {
  it("moves committed pages into the database file while the server's connection never checkpoints", async () => {
    const url = newSqliteUrl();
    await migrate(url);
    const path = sqlitePath(url);
    const db = await openDatabase(url);
    try {
      const { userId, conversationId } = await seedConversation(db.prisma);
      const [setting] = await db.prisma.$queryRawUnsafe<{ wal_autocheckpoint: bigint | number }[]>("PRAGMA wal_autocheckpoint");
      expect(Number(setting?.wal_autocheckpoint)).toBe(0);

      const before = statSync(path).size;
      for (let i = 0; i < 200; i += 1) {
        await db.messages.insert([{ conversationId, senderId: userId, content: "x".repeat(2_000), clientMessageId: `c${i}` }]);
      }
      // Checkpointed pages land in the database file itself.
      const deadline = Date.now() + 10_000;
      while (statSync(path).size <= before + 200 * 2_000) {
        if (Date.now() > deadline) throw new Error(`the database file did not grow: ${statSync(path).size} bytes`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await db.close();
    }
    // Everything is there for a new connection.
    const reopened = new BetterSqlite3(path, { readonly: true });
    try {
      expect(reopened.prepare(`SELECT count(*) AS n FROM "Message"`).get()).toEqual({ n: 200 });
    } finally {
      reopened.close();
    }
  });

  it("reports its checkpoints and stops when asked", async () => {
    const connection = await walConnection();
    const checkpointer = startCheckpointer(connection, connection.name, 20);
    connection.exec(`CREATE TABLE "Scratch" ("x" TEXT)`);
    expect(await checkpointer.checkpointed()).toBeGreaterThanOrEqual(0);
    await checkpointer.stop();
  });

  it("hands checkpointing back to the connection when the worker cannot open the file", async () => {
    const connection = await walConnection();
    const checkpointer = startCheckpointer(connection, "/nonexistent-directory/parley.db", 20);
    try {
      const deadline = Date.now() + 5_000;
      while (connection.pragma("wal_autocheckpoint", { simple: true }) === 0) {
        if (Date.now() > deadline) throw new Error("autocheckpoint was not restored");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(connection.pragma("wal_autocheckpoint", { simple: true })).toBe(1_000);
      await expect(checkpointer.checkpointed()).rejects.toThrow(/failed/);
    } finally {
      await checkpointer.stop();
    }
  });
});

// SQLite checkpoints run on a worker thread, not inside the server's commits.
import { statSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished, vi } from "vitest";
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

/** About 100 pages of new rows, all in the WAL until a checkpoint moves them. */
function fillWal(connection: BetterSqlite3.Database): void {
  connection.exec(`CREATE TABLE IF NOT EXISTS "Scratch" ("x" TEXT)`);
  const insert = connection.prepare(`INSERT INTO "Scratch" ("x") VALUES (?)`);
  for (let i = 0; i < 100; i += 1) insert.run("x".repeat(4_000));
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
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 200 * 2_000), { timeout: 10_000, interval: 50 });
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

  it("reports the pages its checkpoints moved into the database file", async () => {
    const connection = await walConnection();
    const checkpointer = startCheckpointer(connection, connection.name, 20);
    try {
      const before = statSync(connection.name).size;
      fillWal(connection);
      await vi.waitFor(async () => expect(await checkpointer.checkpointed()).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
      expect(statSync(connection.name).size).toBeGreaterThan(before);
    } finally {
      await checkpointer.stop();
    }
  });

  it("checkpoints no more once stopped", async () => {
    const connection = await walConnection();
    const checkpointer = startCheckpointer(connection, connection.name, 20);
    fillWal(connection);
    await vi.waitFor(async () => expect(await checkpointer.checkpointed()).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
    await checkpointer.stop();

    const size = statSync(connection.name).size;
    fillWal(connection);
    // Ten intervals: a worker still running would have moved these pages into the file and reported it.
    const report = await Promise.race([checkpointer.checkpointed(), sleep(200).then(() => "none")]);
    expect(report).toBe("none");
    expect(statSync(connection.name).size).toBe(size);
    expect(statSync(`${connection.name}-wal`).size).toBeGreaterThan(0);
  });

  it("hands checkpointing back to the connection when the worker cannot open the file", async () => {
    const connection = await walConnection();
    const checkpointer = startCheckpointer(connection, "/nonexistent-directory/parley.db", 20);
    try {
      await vi.waitFor(() => expect(connection.pragma("wal_autocheckpoint", { simple: true })).toBe(1_000), { timeout: 5_000, interval: 20 });
      await expect(checkpointer.checkpointed()).rejects.toThrow(/failed/);
    } finally {
      await checkpointer.stop();
    }
  });
});

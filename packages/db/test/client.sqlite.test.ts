import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/client.js";
import { migrate } from "../src/migrate.js";
import { sqlitePath } from "../src/provider.js";
import { insertMessagesConcurrently, newSqliteUrl, packageRoot } from "./support.js";

/** Starts a process that holds the file's write lock for holdMs; resolves once it holds it. */
async function holdWriteLock(path: string, holdMs: number): Promise<Promise<unknown>> {
  const child = spawn(process.execPath, ["--import", "tsx", join(packageRoot, "test/fixtures/hold-write-lock.ts"), path, String(holdMs)], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  await once(child.stdout, "data");
  return exited;
}

describe("openDatabase on SQLite", () => {
  it("puts the database in WAL mode", async () => {
    const db = await openDatabase(newSqliteUrl());
    try {
      const rows = await db.prisma.$queryRawUnsafe<{ journal_mode: string }[]>("PRAGMA journal_mode");
      expect(rows).toEqual([{ journal_mode: "wal" }]);
    } finally {
      await db.close();
    }
  });

  it("completes 50 concurrent message inserts while another process holds the write lock", async () => {
    const url = newSqliteUrl();
    await migrate(url);
    const db = await openDatabase(url);
    try {
      const lockReleased = await holdWriteLock(sqlitePath(url), 500);

      const ids = await insertMessagesConcurrently(db.prisma, 50);

      await lockReleased;
      expect(new Set(ids).size).toBe(50);
      expect(await db.prisma.message.count()).toBe(50);
    } finally {
      await db.close();
    }
  });
});

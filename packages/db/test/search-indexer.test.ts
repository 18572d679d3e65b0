// SQLite's search index written behind the messages (src/search-indexer.ts), on a real file: what
// it holds at each moment, read from the index's own vocabulary, not through db.search. The rule:
// every message at or below "indexedThroughId" that is not deleted is indexed, none above it is,
// and a search first indexes what is pending.
import { describe, expect, it, onTestFinished, vi } from "vitest";
import Database from "better-sqlite3";
import { openDatabase, type Database as ParleyDatabase } from "../src/client.js";
import { migrate } from "../src/migrate.js";
import { sqlitePath } from "../src/provider.js";
import { INDEX_STEP } from "../src/search-indexer.js";
import { newSqliteUrl, seedConversation } from "./support.js";

/** The indexer's own runs an hour apart unless asked: only a search, catchUp() or close() index. */
async function opened(url: string, searchIndexIntervalMs = 3_600_000): Promise<ParleyDatabase> {
  await migrate(url);
  const db = await openDatabase(url, { searchIndexIntervalMs });
  onTestFinished(() => db.close());
  return db;
}

/** The rows the index holds `word` for, and where the indexer stands, read with a connection of their own. */
function indexState(url: string, word: string): { rows: number[]; through: number } {
  const raw = new Database(sqlitePath(url), { readonly: true });
  try {
    raw.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."vocabulary" USING fts5vocab(main, "MessageSearch", instance)`);
    const rows = raw.prepare<[string], number>(`SELECT DISTINCT "doc" FROM temp."vocabulary" WHERE "term" = ? ORDER BY "doc"`).pluck().all(word);
    const through = raw.prepare<[], number>(`SELECT "indexedThroughId" FROM "MessageSearchState" WHERE "id" = 1`).pluck().get() ?? -1;
    return { rows, through };
  } finally {
    raw.close();
  }
}

const request = (conversationId: string, word: string) => ({ phrases: [], prefix: word, conversationIds: [conversationId], senderId: null, beforeId: null, limit: 50 });

describe("the SQLite search indexer", () => {
  it("a stored message is not in the index until the indexer runs, and a search runs it first", async () => {
    const url = newSqliteUrl();
    const db = await opened(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const { results } = await db.messages.insert([{ conversationId, senderId: userId, content: "pelican at dawn", clientMessageId: "p" }]);
    const id = results[0]?.status === "created" ? Number(results[0].message.id) : -1;
    const before = indexState(url, "pelican");
    expect(before.rows).toEqual([]);
    expect(before.through).toBeLessThan(id);
    expect((await db.search.search(request(conversationId, "pelican"))).map((m) => Number(m.id))).toEqual([id]);
    expect(indexState(url, "pelican")).toEqual({ rows: [id], through: id });
  });

  it("indexes by itself within a few intervals, with no search", async () => {
    const url = newSqliteUrl();
    const db = await opened(url, 100);
    const { userId, conversationId } = await seedConversation(db.prisma);
    await db.messages.insert([{ conversationId, senderId: userId, content: "heron", clientMessageId: "h" }]);
    await vi.waitFor(() => expect(indexState(url, "heron").rows).toHaveLength(1), { timeout: 5_000, interval: 50 });
  });

  it("a message edited before it was indexed is indexed as it is then; one deleted, never", async () => {
    const url = newSqliteUrl();
    const db = await opened(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const { results } = await db.messages.insert([
      { conversationId, senderId: userId, content: "first draft", clientMessageId: "e" },
      { conversationId, senderId: userId, content: "regrettable remark", clientMessageId: "d" },
    ]);
    const [edited, deleted] = results.map((r) => (r.status === "created" ? r.message.id : -1n));
    await db.prisma.message.update({ where: { id: edited }, data: { content: "final wording", editedAt: new Date() } });
    await db.prisma.message.update({ where: { id: deleted }, data: { content: "", deletedAt: new Date() } });
    await db.search.catchUp();
    expect(indexState(url, "draft").rows).toEqual([]);
    expect(indexState(url, "wording").rows).toEqual([Number(edited)]);
    expect(indexState(url, "regrettable").rows).toEqual([]);
    // And once indexed, an edit and a delete change the index in their own transaction, as before.
    await db.prisma.message.update({ where: { id: edited }, data: { content: "changed again", editedAt: new Date() } });
    expect(indexState(url, "wording").rows).toEqual([]);
    expect(indexState(url, "again").rows).toEqual([Number(edited)]);
    await db.prisma.message.delete({ where: { id: edited } });
    expect(indexState(url, "again").rows).toEqual([]);
  });

  it("indexes a backlog longer than one step in steps, every message once", async () => {
    const url = newSqliteUrl();
    const db = await opened(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const total = INDEX_STEP + 25;
    for (let start = 0; start < total; start += 500) {
      const rows = Array.from({ length: Math.min(500, total - start) }, (_, i) => ({ conversationId, senderId: userId, content: `plover ${start + i}`, clientMessageId: `b-${start + i}` }));
      await db.messages.insert(rows);
    }
    await db.search.catchUp();
    const { rows, through } = indexState(url, "plover");
    expect(rows).toHaveLength(total);
    expect(through).toBe(rows.at(-1));
  });

  it("what was stored last is indexed when the database closes, and found after it opens again", async () => {
    const url = newSqliteUrl();
    await migrate(url);
    const db = await openDatabase(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    await db.messages.insert([{ conversationId, senderId: userId, content: "curlew", clientMessageId: "c" }]);
    await db.close();
    expect(indexState(url, "curlew").rows).toHaveLength(1);
    const again = await opened(url);
    expect((await again.search.search(request(conversationId, "curlew"))).map((m) => m.content)).toEqual(["curlew"]);
  });
});

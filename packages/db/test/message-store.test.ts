// db.messages against a real SQLite file and a real PostgreSQL database, with the same expectations:
// rows written by the store read back through Prisma (and the other way round) unchanged, ids in
// input order, retries answered with the stored row, and ids visible in commit order.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { openDatabase, type Database } from "../src/client.js";
import { migrate } from "../src/migrate.js";
import { newSqliteUrl, seedConversation } from "./support.js";

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) console.warn("TEST_DATABASE_URL is not set: the PostgreSQL half of the message store tests is skipped");

interface Provider {
  name: string;
  skip: boolean;
  url(): Promise<string>;
}

let admin: pg.Client | null = null;
const created: string[] = [];

const providers: Provider[] = [
  { name: "SQLite", skip: false, url: async () => newSqliteUrl() },
  {
    name: "PostgreSQL",
    skip: !serverUrl,
    async url() {
      const name = `parley_store_test_${randomBytes(6).toString("hex")}`;
      await admin?.query(`CREATE DATABASE "${name}"`);
      created.push(name);
      const url = new URL(serverUrl ?? "");
      url.pathname = `/${name}`;
      return url.toString();
    },
  },
];

beforeAll(async () => {
  if (!serverUrl) return;
  admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
});

afterAll(async () => {
  for (const name of created) await admin?.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin?.end();
});

/** A migrated database of the provider, closed when the test ends. */
async function open(provider: Provider): Promise<Database> {
  const url = await provider.url();
  await migrate(url);
  const db = await openDatabase(url);
  onTestFinished(() => db.close());
  return db;
}

describe.each(providers)("db.messages on $name", (provider) => {
  it.skipIf(provider.skip)("stores a batch in input order and reads it back through Prisma unchanged", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const before = Date.now();
    const { results, prevId } = await db.messages.insert(
      ["first", "second", "third"].map((content, i) => ({ conversationId, senderId: userId, content, clientMessageId: `c${i}` })),
    );

    expect(prevId).toBe(0n);
    expect(results.map((r) => [r.message.content, r.created])).toEqual([
      ["first", true],
      ["second", true],
      ["third", true],
    ]);
    const ids = results.map((r) => r.message.id);
    expect([...ids].sort((a, b) => Number(a - b))).toEqual(ids);
    const viaPrisma = await db.prisma.message.findMany({ orderBy: { id: "asc" } });
    expect(viaPrisma).toEqual(results.map((r) => r.message));
    const createdAt = results[0]?.message.createdAt.getTime() ?? 0;
    expect(createdAt).toBeGreaterThanOrEqual(before - 1);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 1);
  });

  it.skipIf(provider.skip)("answers a stored clientMessageId with the stored row, within a batch and across batches", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const first = await db.messages.insert([{ conversationId, senderId: userId, content: "original", clientMessageId: "same" }]);
    const again = await db.messages.insert([
      { conversationId, senderId: userId, content: "retry", clientMessageId: "same" },
      { conversationId, senderId: userId, content: "new", clientMessageId: "other" },
      { conversationId, senderId: userId, content: "new again", clientMessageId: "other" },
    ]);

    const original = first.results[0]?.message;
    expect(again.prevId).toBe(original?.id);
    expect(again.results.map((r) => [r.message.content, r.created])).toEqual([
      ["original", false],
      ["new", true],
      ["new", false],
    ]);
    expect(again.results[0]?.message).toEqual(original);
    expect(await db.prisma.message.count()).toBe(2);
  });

  it.skipIf(provider.skip)("reads rows Prisma wrote, pages newest first, and knows the latest id", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const other = await db.prisma.conversation.create({ data: { members: { create: { userId } } } });
    const written = [];
    for (let i = 0; i < 7; i += 1) {
      written.push(await db.prisma.message.create({ data: { conversationId, senderId: userId, content: `m${i}`, clientMessageId: `p${i}` } }));
      await db.prisma.message.create({ data: { conversationId: other.id, senderId: userId, content: `x${i}`, clientMessageId: `q${i}` } });
    }

    const newest = await db.messages.page(conversationId, null, 3);
    expect(newest).toEqual(written.slice(4).reverse());
    const older = await db.messages.page(conversationId, newest.at(-1)?.id ?? 0n, 10);
    expect(older).toEqual(written.slice(0, 4).reverse());
    expect(await db.messages.page(conversationId, written[0]?.id ?? 0n, 10)).toEqual([]);
    expect(await db.messages.latestId()).toBe((await db.prisma.message.findFirst({ orderBy: { id: "desc" } }))?.id);
  });

  it.skipIf(provider.skip)("concurrent batches get disjoint, increasing ids, each batch's prevId the id stored just before it", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const batches = await Promise.all(
      Array.from({ length: 20 }, (_, b) =>
        db.messages.insert(Array.from({ length: 5 }, (_, i) => ({ conversationId, senderId: userId, content: `${b}.${i}`, clientMessageId: `${b}.${i}` }))),
      ),
    );

    const all = batches.flatMap((batch) => batch.results.map((r) => r.message.id)).sort((a, b) => (a < b ? -1 : 1));
    expect(new Set(all).size).toBe(100);
    // Chained: sorting batches by their first id, each prevId is the previous batch's last id.
    const chain = batches
      .map((batch) => ({ prevId: batch.prevId, ids: batch.results.map((r) => r.message.id) }))
      .sort((a, b) => (a.ids[0] ?? 0n) < (b.ids[0] ?? 0n) ? -1 : 1);
    let last = 0n;
    for (const { prevId, ids } of chain) {
      expect(prevId).toBe(last);
      last = ids.at(-1) ?? last;
    }
  });

  it.skipIf(provider.skip)("a failed batch stores nothing and leaves the store usable", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    await expect(
      db.messages.insert([
        { conversationId, senderId: userId, content: "fine", clientMessageId: "a" },
        { conversationId: "no-such-conversation", senderId: userId, content: "orphan", clientMessageId: "b" },
      ]),
    ).rejects.toThrow();

    expect(await db.prisma.message.count()).toBe(0);
    const { results } = await db.messages.insert([{ conversationId, senderId: userId, content: "after", clientMessageId: "a" }]);
    expect(results[0]?.created).toBe(true);
  });
});

describe("db.messages on SQLite, beside Prisma's own transactions on the shared connection", () => {
  it("waits for a transaction Prisma has open, so a rollback of it cannot take a message with it", async () => {
    const url = newSqliteUrl();
    await migrate(url);
    const db = await openDatabase(url);
    try {
      const { userId, conversationId } = await seedConversation(db.prisma);
      // Assigned inside the transaction's callback, which control-flow narrowing cannot see.
      let insert = null as Promise<unknown> | null;
      const failed = db.prisma
        .$transaction(async (tx) => {
          await tx.user.create({ data: { username: "rolled-back", passwordHash: "x" } });
          // Inside the open transaction, a message is stored "concurrently".
          insert = db.messages.insert([{ conversationId, senderId: userId, content: "kept", clientMessageId: "k" }]);
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new Error("roll back");
        })
        .catch((error: unknown) => error);

      expect(await failed).toBeInstanceOf(Error);
      expect(insert).toBeInstanceOf(Promise);
      await insert;
      expect(await db.prisma.user.count({ where: { username: "rolled-back" } })).toBe(0);
      expect((await db.prisma.message.findMany()).map((m) => m.content)).toEqual(["kept"]);
    } finally {
      await db.close();
    }
  });
});

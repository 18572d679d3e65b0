// db.events against a real SQLite file and a real PostgreSQL database: one order for messages and
// every other change, replay by membership span, and retention that never lets ids start over.
import { describe, expect, it, onTestFinished } from "vitest";
import { openDatabase, type Database } from "../src/client.js";
import { RESTORE_ID_STEP, restoredLogStart } from "../src/event-log.js";
import { migrate } from "../src/migrate.js";
import { newSqliteUrl, testProviders, type TestProvider } from "./support.js";

const providers = testProviders("event log");

async function open(provider: TestProvider): Promise<Database> {
  const url = await provider.url();
  await migrate(url);
  const db = await openDatabase(url);
  onTestFinished(() => db.close());
  return db;
}

/** Two users in one conversation, the way the API makes them: with the event that created it. */
async function seed(db: Database) {
  const [ann, bob] = await Promise.all(["ann", "bob"].map((username) => db.prisma.user.create({ data: { username, passwordHash: "x" } })));
  if (!ann || !bob) throw new Error("seed");
  const { result: conversationId } = await db.events.inEventOrder(async ({ tx, append, nextId }) => {
    const conversation = await tx.conversation.create({ data: { title: "t" } });
    const joinedEventId = nextId();
    await tx.conversationMember.createMany({ data: [ann, bob].map((u) => ({ conversationId: conversation.id, userId: u.id, joinedEventId })) });
    await append({ kind: "conversation.updated", conversationId: conversation.id, userId: ann.id });
    return conversation.id;
  });
  return { ann: ann.id, bob: bob.id, conversationId };
}

const sendAs = async (db: Database, conversationId: string, senderId: string, content: string) => {
  const { results } = await db.messages.insert([{ conversationId, senderId, content, clientMessageId: content }]);
  const [result] = results;
  if (result?.status !== "created") throw new Error(`not stored: ${result?.status}`);
  return result.message.id;
};

describe.each(providers)("db.events on $name", (provider) => {
  it.skipIf(provider.skip)("messages and other changes written at once get one gap-free order, each transaction's prevId the event before it", async () => {
    const db = await open(provider);
    const { ann, conversationId } = await seed(db);
    const writes = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        if (i % 2 === 0) {
          const { results, prevId } = await db.messages.insert([{ conversationId, senderId: ann, content: `m${i}`, clientMessageId: `m${i}` }]);
          return { prevId, ids: results.flatMap((r) => (r.status === "created" ? [r.message.id] : [])) };
        }
        const { events, prevId } = await db.events.inEventOrder(async ({ append }) => {
          await append({ kind: "read.updated", conversationId, userId: ann, data: `{"i":${i}}` });
        });
        return { prevId, ids: events.map((e) => e.id) };
      }),
    );
    const chain = writes.sort((a, b) => ((a.ids[0] ?? 0n) < (b.ids[0] ?? 0n) ? -1 : 1));
    let last = 1n; // the seed's conversation event
    for (const { prevId, ids } of chain) {
      expect(prevId).toBe(last);
      expect(ids).toEqual([last + 1n]);
      last = ids[0] ?? last;
    }
    expect((await db.events.after(0n, 100)).map((e) => e.id)).toEqual(Array.from({ length: 31 }, (_, i) => BigInt(i + 1)));
  });

  it.skipIf(provider.skip)("forUser replays each conversation between the event that made the user a member and the one that ended it", async () => {
    const db = await open(provider);
    const { ann, bob, conversationId } = await seed(db);
    const before = await sendAs(db, conversationId, ann, "before");
    // bob leaves (span 1..leftAt), a message he must not get, then he comes back.
    const { events: left } = await db.events.inEventOrder(async ({ tx, append, nextId }) => {
      await tx.conversationMember.delete({ where: { conversationId_userId: { conversationId, userId: bob } } });
      await tx.pastMembership.create({ data: { userId: bob, conversationId, fromEventId: 1n, toEventId: nextId() } });
      await append({ kind: "conversation.updated", conversationId, userId: bob });
    });
    await sendAs(db, conversationId, ann, "while away");
    const { events: back } = await db.events.inEventOrder(async ({ tx, append, nextId }) => {
      await tx.conversationMember.create({ data: { conversationId, userId: bob, joinedEventId: nextId() } });
      await append({ kind: "conversation.updated", conversationId, userId: bob });
    });
    const after = await sendAs(db, conversationId, ann, "after");
    const leftAt = left[0]?.id ?? 0n;
    const backAt = back[0]?.id ?? 0n;

    expect((await db.events.forUser(bob, 0n, 100)).map((e) => e.id)).toEqual([1n, before, leftAt, backAt, after]);
    expect((await db.events.forUser(bob, before, 100)).map((e) => e.id)).toEqual([leftAt, backAt, after]);
    // Paged, and ann (a member throughout) gets everything.
    expect((await db.events.forUser(bob, 0n, 2)).map((e) => e.id)).toEqual([1n, before]);
    expect(await db.events.forUser(ann, 0n, 100)).toHaveLength(6);
    // A stranger gets nothing.
    const stranger = await db.prisma.user.create({ data: { username: "stranger", passwordHash: "x" } });
    expect(await db.events.forUser(stranger.id, 0n, 100)).toEqual([]);
    // The spans of the conversation, as the hub reads them to find each event's recipients.
    const spans = await db.events.spans([conversationId], 0n);
    expect(spans.filter((s) => s.userId === bob).map((s) => [s.fromEventId, s.toEventId])).toEqual(expect.arrayContaining([[backAt, null], [1n, leftAt]]));
  });

  it.skipIf(provider.skip)("prune removes old events and raises the floor, but keeps the newest, so ids never start over", async () => {
    const db = await open(provider);
    const { ann, conversationId } = await seed(db);
    expect(await db.events.floor()).toEqual({ prunedThroughId: 0n, restoredAtId: 0n });
    // Nothing is old enough yet.
    expect(await db.events.prune(new Date(Date.now() - 60_000))).toBe(0n);
    const first = await sendAs(db, conversationId, ann, "first");
    const second = await sendAs(db, conversationId, ann, "second");
    expect(await db.events.prune(new Date(Date.now() + 60_000))).toBe(first);
    expect((await db.events.floor()).prunedThroughId).toBe(first);
    expect((await db.events.after(0n, 10)).map((e) => e.id)).toEqual([second]);
    // Again: the newest stays, the floor does not move back.
    expect(await db.events.prune(new Date(Date.now() + 60_000))).toBe(first);
    const third = await sendAs(db, conversationId, ann, "third");
    expect(third).toBe(second + 1n);
    // Messages are kept.
    expect(await db.prisma.message.count()).toBe(3);
  });

  it.skipIf(provider.skip)("markRestored moves the log 10^12 ids on, so the next event never reuses an id handed out after the backup, and records where", async () => {
    const db = await open(provider);
    const { ann, bob, conversationId } = await seed(db);
    const before = await sendAs(db, conversationId, ann, "before the backup");
    const mark = await db.events.markRestored();
    expect(mark).toEqual({ backupLatestId: before, restoredAtId: RESTORE_ID_STEP * 2n });
    expect(await db.events.floor()).toEqual({ prunedThroughId: 0n, restoredAtId: mark.restoredAtId });
    // Both writers follow the mark: the message store's group commit and ordered transactions.
    const sent = await sendAs(db, conversationId, bob, "after the restore");
    expect(sent).toBe(mark.restoredAtId + 1n);
    const { events } = await db.events.inEventOrder(({ append }) => append({ kind: "conversation.updated", conversationId, userId: ann }));
    expect(events.map((e) => e.id)).toEqual([mark.restoredAtId + 2n]);
    // The mark belongs to no conversation: nobody's replay holds it.
    expect((await db.events.forUser(ann, before, 10)).map((e) => e.id)).toEqual([sent, sent + 1n]);
    // A second restore moves on again.
    expect((await db.events.markRestored()).restoredAtId).toBe(RESTORE_ID_STEP * 4n);
  });
});

// Prisma does not run a query outside a transaction while one is open on the shared connection (its
// own serialization, not the adapter's); ordered transactions rely on that, so it is checked here.
describe("SQLite: queries outside a transaction wait for the open one", () => {
  it("a write made while another request's transaction is open is not rolled back with it", async () => {
    const url = newSqliteUrl();
    await migrate(url);
    const db = await openDatabase(url);
    onTestFinished(() => db.close());
    await db.prisma.user.create({ data: { username: "independent", passwordHash: "old" } });
    // Assigned inside the transaction's callback, which control-flow narrowing cannot see.
    let outside = null as Promise<unknown> | null;
    const failed = db.prisma
      .$transaction(async (tx) => {
        await tx.user.create({ data: { username: "rolled-back", passwordHash: "x" } });
        // Another request, on the same connection, while this transaction is open: a single
        // conditional update, as auth.refresh marks a token used.
        // (A PrismaPromise runs only once it is awaited or then()ed: then() starts it now.)
        outside = db.prisma.user.updateMany({ where: { username: "independent" }, data: { passwordHash: "new" } }).then((result) => result);
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error("roll back");
      })
      .catch((error: unknown) => error);
    expect(await failed).toBeInstanceOf(Error);
    expect(outside).toBeInstanceOf(Promise);
    await outside;
    expect((await db.prisma.user.findMany({ orderBy: { username: "asc" } })).map((u) => [u.username, u.passwordHash])).toEqual([["independent", "new"]]);
  });
});

describe("restoredLogStart", () => {
  it("is the first multiple of 10^12 at least 10^12 past the newest id", () => {
    expect(restoredLogStart(0n)).toBe(RESTORE_ID_STEP);
    expect(restoredLogStart(1n)).toBe(2n * RESTORE_ID_STEP);
    expect(restoredLogStart(RESTORE_ID_STEP - 1n)).toBe(2n * RESTORE_ID_STEP);
    expect(restoredLogStart(RESTORE_ID_STEP)).toBe(2n * RESTORE_ID_STEP);
    expect(restoredLogStart(2n * RESTORE_ID_STEP + 5n)).toBe(4n * RESTORE_ID_STEP);
  });
});

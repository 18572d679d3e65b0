// db.messages against a real SQLite file and a real PostgreSQL database, with the same expectations:
// rows written by the store read back through Prisma (and the other way round) unchanged, ids in
// input order, retries answered with the stored row, and ids visible in commit order.
import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { openDatabase, type Database } from "../src/client.js";
import { migrate } from "../src/migrate.js";
import type { InsertOutcome, ReactOutcome, StoredReaction } from "../src/message-store.js";
import { newSqliteUrl, seedConversation, testProviders, type TestProvider } from "./support.js";

const providers = testProviders("message store");

/** The message of an outcome that stored one (or found it stored). */
function messageOf(outcome: InsertOutcome | undefined) {
  if (!outcome || outcome.status === "not_member" || outcome.status === "bad_attachment") throw new Error(`nothing stored: ${JSON.stringify(outcome)}`);
  return outcome.message;
}
const summary = (r: InsertOutcome) => [messageOf(r).content, r.status];

/** The aggregate of a message an outcome carries, parsed. */
function reactionsOf(outcome: ReactOutcome | undefined): StoredReaction[] {
  if (!outcome || (outcome.status !== "changed" && outcome.status !== "unchanged")) throw new Error(`no message: ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.message.reactions) as StoredReaction[];
}

/** The limit packages/api passes (MAX_REACTIONS_PER_MESSAGE). */
const MAX_EMOJI = 20;

/** A migrated database of the provider, closed when the test ends. */
async function open(provider: TestProvider): Promise<Database> {
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
    expect(results.map(summary)).toEqual([
      ["first", "created"],
      ["second", "created"],
      ["third", "created"],
    ]);
    const ids = results.map((r) => messageOf(r).id);
    expect(ids).toEqual([1n, 2n, 3n]);
    const viaPrisma = await db.prisma.message.findMany({ orderBy: { id: "asc" } });
    expect(viaPrisma).toEqual(results.map(messageOf));
    // Each message is its own event: same id, same time.
    const events = await db.prisma.event.findMany({ orderBy: { id: "asc" } });
    expect(events.map((e) => [e.id, e.kind, e.conversationId, e.messageId, e.createdAt.getTime()])).toEqual(
      results.map((r) => [messageOf(r).id, "message.created", conversationId, messageOf(r).id, messageOf(r).createdAt.getTime()]),
    );
    const createdAt = messageOf(results[0]).createdAt.getTime();
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

    const original = messageOf(first.results[0]);
    expect(again.prevId).toBe(original.id);
    expect(again.results.map(summary)).toEqual([
      ["original", "duplicate"],
      ["new", "created"],
      ["new", "duplicate"],
    ]);
    expect(messageOf(again.results[0])).toEqual(original);
    expect(await db.prisma.message.count()).toBe(2);
    expect(await db.prisma.event.count()).toBe(2);
  });

  it.skipIf(provider.skip)("pages newest first as Prisma reads the rows, and knows the latest event id", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const other = await db.prisma.conversation.create({ data: { members: { create: { userId } } } });
    expect(await db.messages.latestId()).toBe(0n);
    for (let i = 0; i < 7; i += 1) {
      await db.messages.insert([
        { conversationId, senderId: userId, content: `m${i}`, clientMessageId: `p${i}` },
        { conversationId: other.id, senderId: userId, content: `x${i}`, clientMessageId: `q${i}` },
      ]);
    }
    const written = await db.prisma.message.findMany({ where: { conversationId }, orderBy: { id: "asc" } });

    const newest = await db.messages.page(conversationId, null, 3);
    expect(newest).toEqual(written.slice(4).reverse());
    const older = await db.messages.page(conversationId, newest.at(-1)?.id ?? 0n, 10);
    expect(older).toEqual(written.slice(0, 4).reverse());
    expect(await db.messages.page(conversationId, written[0]?.id ?? 0n, 10)).toEqual([]);
    expect(await db.messages.latestId()).toBe(14n);
  });

  it.skipIf(provider.skip)("pages a conversation towards the newest after an id, oldest first, only its own main list", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const other = await db.prisma.conversation.create({ data: { members: { create: { userId } } } });
    for (let i = 0; i < 5; i += 1) {
      await db.messages.insert([
        { conversationId, senderId: userId, content: `m${i}`, clientMessageId: `p${i}` },
        { conversationId: other.id, senderId: userId, content: `x${i}`, clientMessageId: `q${i}` },
      ]);
    }
    const written = await db.prisma.message.findMany({ where: { conversationId }, orderBy: { id: "asc" } });
    const first = written[0]?.id ?? 0n;
    await db.prisma.message.create({ data: { id: 100n, conversationId, senderId: userId, content: "a reply", clientMessageId: "r", threadId: first } });

    expect(await db.messages.pageAfter(conversationId, first, 2)).toEqual(written.slice(1, 3));
    expect(await db.messages.pageAfter(conversationId, written[2]?.id ?? 0n, 10)).toEqual(written.slice(3));
    expect(await db.messages.pageAfter(conversationId, written.at(-1)?.id ?? 0n, 10)).toEqual([]);
    expect(await db.messages.pageAfter(conversationId, 0n, 10)).toEqual(written);
  });

  it.skipIf(provider.skip)("tells the conversation of a message, and null for an id no message has", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const other = await db.prisma.conversation.create({ data: { members: { create: { userId } } } });
    const { results } = await db.messages.insert([
      { conversationId, senderId: userId, content: "here", clientMessageId: "c1" },
      { conversationId: other.id, senderId: userId, content: "there", clientMessageId: "c2" },
    ]);
    const [here, there] = results.map((r) => (r.status === "created" ? r.message.id : 0n));
    expect(await db.messages.conversationOf(here ?? 0n)).toBe(conversationId);
    expect(await db.messages.conversationOf(there ?? 0n)).toBe(other.id);
    expect(await db.messages.conversationOf(999_999n)).toBeNull();
  });

  it.skipIf(provider.skip)("reads a member's read state as stored, and null for someone who is not a member", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const reader = await db.prisma.user.create({ data: { username: "reader-of-state", passwordHash: "-" } });
    await db.prisma.conversationMember.create({ data: { conversationId, userId: reader.id } });
    expect(await db.messages.readState(conversationId, reader.id)).toEqual({ lastReadMessageId: null, unreadCount: 0, mentionCount: 0 });
    const { results } = await db.messages.insert([
      { conversationId, senderId: userId, content: "one @reader-of-state", clientMessageId: "r1", mentionNames: ["reader-of-state"] },
      { conversationId, senderId: userId, content: "two", clientMessageId: "r2" },
    ]);
    const first = results[0]?.status === "created" ? results[0].message.id : 0n;
    expect(await db.messages.readState(conversationId, reader.id)).toEqual({ lastReadMessageId: null, unreadCount: 2, mentionCount: 1 });
    await db.messages.markRead([{ conversationId, userId: reader.id, messageId: first }]);
    expect(await db.messages.readState(conversationId, reader.id)).toEqual({ lastReadMessageId: first, unreadCount: 1, mentionCount: 0 });
    expect(await db.messages.readState(conversationId, "nobody")).toBeNull();
  });

  it.skipIf(provider.skip)("concurrent batches get disjoint, increasing ids, each batch's prevId the id stored just before it", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const batches = await Promise.all(
      Array.from({ length: 20 }, (_, b) =>
        db.messages.insert(Array.from({ length: 5 }, (_, i) => ({ conversationId, senderId: userId, content: `${b}.${i}`, clientMessageId: `${b}.${i}` }))),
      ),
    );

    const all = batches.flatMap((batch) => batch.results.map((r) => messageOf(r).id)).sort((a, b) => (a < b ? -1 : 1));
    expect(new Set(all).size).toBe(100);
    // Chained: sorting batches by their first id, each prevId is the previous batch's last id.
    const chain = batches
      .map((batch) => ({ prevId: batch.prevId, ids: batch.results.map((r) => messageOf(r).id) }))
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
        // Refused by the database (NOT NULL) after the first row was written.
        { conversationId, senderId: userId, content: null as unknown as string, clientMessageId: "b" },
      ]),
    ).rejects.toThrow();

    expect(await db.prisma.message.count()).toBe(0);
    expect(await db.prisma.event.count()).toBe(0);
    const { results } = await db.messages.insert([{ conversationId, senderId: userId, content: "after", clientMessageId: "a" }]);
    expect(results[0]?.status).toBe("created");
    expect(messageOf(results[0]).id).toBe(1n);
  });

  it.skipIf(provider.skip)("stores nothing for a sender who is not a member, and says so", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const stranger = await db.prisma.user.create({ data: { username: "stranger", passwordHash: "x" } });
    const { results } = await db.messages.insert([
      { conversationId, senderId: stranger.id, content: "let me in", clientMessageId: "s" },
      { conversationId: "no-such-conversation", senderId: userId, content: "nowhere", clientMessageId: "n" },
      { conversationId, senderId: userId, content: "fine", clientMessageId: "f" },
    ]);
    expect(results.map((r) => r.status)).toEqual(["not_member", "not_member", "created"]);
    expect(messageOf(results[2]).id).toBe(1n);
    expect(await db.prisma.message.count()).toBe(1);
  });

  it.skipIf(provider.skip)("attaches the sender's uploads in the message's transaction, refuses one it cannot take, and answers a retry with the stored attachments", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const other = await seedConversation(db.prisma);
    const upload = (id: string, data: { uploaderId?: string; conversationId?: string; width?: number; height?: number } = {}) =>
      db.prisma.attachment.create({
        data: { id, conversationId: data.conversationId ?? conversationId, uploaderId: data.uploaderId ?? userId, name: `${id}.bin`, size: 3, contentType: "image/png", storageKey: `key-${id}`, width: data.width ?? null, height: data.height ?? null },
      });
    await upload("a", { width: 4, height: 2 });
    await upload("b");
    await upload("c");
    await upload("theirs", { uploaderId: other.userId });
    await upload("elsewhere", { conversationId: other.conversationId });
    const { results } = await db.messages.insert([
      { conversationId, senderId: userId, content: "two files", clientMessageId: "m1", attachmentIds: ["b", "a"] },
      { conversationId, senderId: userId, content: "again", clientMessageId: "m2", attachmentIds: ["a"] },
      { conversationId, senderId: userId, content: "", clientMessageId: "m3", attachmentIds: ["theirs"] },
      { conversationId, senderId: userId, content: "", clientMessageId: "m4", attachmentIds: ["elsewhere"] },
      { conversationId, senderId: userId, content: "", clientMessageId: "m5", attachmentIds: ["c", "missing"] },
    ]);
    expect(results.map((r) => (r.status === "bad_attachment" ? [r.status, r.attachmentId, r.problem] : [r.status]))).toEqual([
      ["created"],
      ["bad_attachment", "a", "attached"],
      ["bad_attachment", "theirs", "not_yours"],
      ["bad_attachment", "elsewhere", "other_conversation"],
      ["bad_attachment", "missing", "not_found"],
    ]);
    const message = messageOf(results[0]);
    const entries = [
      { id: "b", name: "b.bin", size: 3, contentType: "image/png" },
      { id: "a", name: "a.bin", size: 3, contentType: "image/png", width: 4, height: 2 },
    ];
    expect(JSON.parse(message.attachments)).toEqual(entries);
    expect(await db.prisma.message.findMany()).toEqual([message]);
    const rows = await db.prisma.attachment.findMany({ orderBy: { id: "asc" }, select: { id: true, messageId: true } });
    expect(rows).toEqual([
      { id: "a", messageId: message.id },
      { id: "b", messageId: message.id },
      { id: "c", messageId: null },
      { id: "elsewhere", messageId: null },
      { id: "theirs", messageId: null },
    ]);
    const retry = await db.messages.insert([{ conversationId, senderId: userId, content: "two files", clientMessageId: "m1", attachmentIds: ["b", "a"] }]);
    expect(retry.results[0]?.status).toBe("duplicate");
    expect(JSON.parse(messageOf(retry.results[0]).attachments)).toEqual(entries);
  });

  it.skipIf(provider.skip)("names the members as recipients, resolves mentions of members, and moves read state", async () => {
    const db = await open(provider);
    const [ann, bob, cat, dan] = await Promise.all(["ann", "bob", "cat", "dan"].map((username) => db.prisma.user.create({ data: { username, passwordHash: "x" } })));
    if (!ann || !bob || !cat || !dan) throw new Error("seed");
    const { id: conversationId } = await db.prisma.conversation.create({
      data: { title: "t", members: { create: [{ userId: ann.id }, { userId: bob.id }, { userId: cat.id }] } },
    });
    const { results } = await db.messages.insert([
      // dan is not a member: his name is no mention; bob written twice counts once; order of writing.
      { conversationId, senderId: ann.id, content: "@cat @bob @dan @bob", clientMessageId: "1", mentionNames: ["cat", "bob", "dan"] },
      { conversationId, senderId: bob.id, content: "hi", clientMessageId: "2" },
      { conversationId, senderId: ann.id, content: "@cat", clientMessageId: "3", mentionNames: ["cat"] },
    ]);
    const [first, second, third] = results;
    expect(first?.status === "created" && [...first.recipientIds].sort()).toEqual([ann.id, bob.id, cat.id].sort());
    expect(JSON.parse(messageOf(first).mentions)).toEqual([cat.id, bob.id]);
    expect(JSON.parse(messageOf(second).mentions)).toEqual([]);
    const reads = await db.prisma.conversationMember.findMany({ where: { conversationId }, select: { userId: true, lastReadMessageId: true, unreadCount: true, mentionCount: true } });
    const of = (userId: string) => reads.find((r) => r.userId === userId);
    // ann sent the last one: read up to it. bob sent the second: the third is unread for him.
    expect(of(ann.id)).toMatchObject({ lastReadMessageId: messageOf(third).id, unreadCount: 0, mentionCount: 0 });
    expect(of(bob.id)).toMatchObject({ lastReadMessageId: messageOf(second).id, unreadCount: 1, mentionCount: 0 });
    expect(of(cat.id)).toMatchObject({ lastReadMessageId: null, unreadCount: 3, mentionCount: 2 });

    // A later batch adds to the counts kept so far.
    await db.messages.insert([{ conversationId, senderId: bob.id, content: "@cat again", clientMessageId: "4", mentionNames: ["cat"] }]);
    expect(await db.prisma.conversationMember.findUnique({ where: { conversationId_userId: { conversationId, userId: cat.id } } })).toMatchObject({
      unreadCount: 4,
      mentionCount: 3,
    });
  });

  it.skipIf(provider.skip)("markRead moves pointers forward only, counts what is left, writes one event per move, and collapses a member's requests", async () => {
    const db = await open(provider);
    const [ann, bob, cat] = await Promise.all(["ann", "bob", "cat"].map((username) => db.prisma.user.create({ data: { username, passwordHash: "x" } })));
    if (!ann || !bob || !cat) throw new Error("seed");
    const { id: conversationId } = await db.prisma.conversation.create({ data: { title: "t", members: { create: [{ userId: ann.id }, { userId: bob.id }] } } });
    const { results } = await db.messages.insert([
      { conversationId, senderId: ann.id, content: "1", clientMessageId: "1" },
      { conversationId, senderId: ann.id, content: "@bob 2", clientMessageId: "2", mentionNames: ["bob"] },
      { conversationId, senderId: bob.id, content: "3", clientMessageId: "3" },
      { conversationId, senderId: ann.id, content: "@bob 4", clientMessageId: "4", mentionNames: ["bob"] },
    ]);
    const [m1, m2, , m4] = results.map(messageOf);
    if (!m1 || !m2 || !m4) throw new Error("seed");
    // bob's send (3) read up to it: 4 is left, and it mentions him.
    const marked = await db.messages.markRead([
      { conversationId, userId: bob.id, messageId: m1.id },
      { conversationId, userId: ann.id, messageId: m2.id },
      // The same member twice: the furthest wins, both are answered with it.
      { conversationId, userId: bob.id, messageId: m2.id },
      { conversationId, userId: cat.id, messageId: m2.id },
    ]);
    expect(marked.prevId).toBe(m4.id);
    const [bobFirst, annMove, bobSecond, catMove] = marked.results;
    // bob's pointer (3) is ahead of both requests: unchanged, one answer for both.
    expect(bobFirst).toEqual({ status: "unchanged", state: { lastReadMessageId: m4.id - 1n, unreadCount: 1, mentionCount: 1 } });
    expect(bobSecond).toEqual(bobFirst);
    // ann had read up to her own 4 already (sending marks read).
    expect(annMove).toEqual({ status: "unchanged", state: { lastReadMessageId: m4.id, unreadCount: 0, mentionCount: 0 } });
    expect(catMove).toEqual({ status: "not_member" });

    const moved = await db.messages.markRead([{ conversationId, userId: bob.id, messageId: m4.id }]);
    expect(moved.results[0]).toEqual({ status: "moved", state: { lastReadMessageId: m4.id, unreadCount: 0, mentionCount: 0 }, eventId: m4.id + 1n, recipientIds: expect.arrayContaining([ann.id, bob.id]) });
    const event = await db.prisma.event.findUniqueOrThrow({ where: { id: m4.id + 1n } });
    expect(event).toMatchObject({ kind: "read.updated", conversationId, userId: bob.id, messageId: m4.id });
    expect(JSON.parse(event.data ?? "null")).toEqual({ lastReadMessageId: m4.id.toString(), unreadCount: 0, mentionCount: 0 });
    expect(await db.prisma.conversationMember.findUnique({ where: { conversationId_userId: { conversationId, userId: bob.id } } })).toMatchObject({
      lastReadMessageId: m4.id,
      unreadCount: 0,
      mentionCount: 0,
    });
    // Backwards afterwards: nothing written.
    const events = await db.prisma.event.count();
    expect((await db.messages.markRead([{ conversationId, userId: bob.id, messageId: m2.id }])).results[0]?.status).toBe("unchanged");
    expect(await db.prisma.event.count()).toBe(events);
  });

  it.skipIf(provider.skip)("markRead counts the unread left after an earlier pointer, and the mentions among them", async () => {
    const db = await open(provider);
    const [ann, bob] = await Promise.all(["ann", "bob"].map((username) => db.prisma.user.create({ data: { username, passwordHash: "x" } })));
    if (!ann || !bob) throw new Error("seed");
    const { id: conversationId } = await db.prisma.conversation.create({ data: { title: "t", members: { create: [{ userId: ann.id }, { userId: bob.id }] } } });
    const { results } = await db.messages.insert(
      Array.from({ length: 6 }, (_, i) => ({ conversationId, senderId: ann.id, content: `${i}`, clientMessageId: `${i}`, mentionNames: i % 2 === 0 ? ["bob"] : [] })),
    );
    const ids = results.map((r) => messageOf(r).id);
    const { results: marked } = await db.messages.markRead([{ conversationId, userId: bob.id, messageId: ids[1] ?? 0n }]);
    // Left: 2, 3, 4, 5 - of which 2 and 4 mention bob.
    expect(marked[0]).toMatchObject({ status: "moved", state: { lastReadMessageId: ids[1], unreadCount: 4, mentionCount: 2 } });
  });

  it.skipIf(provider.skip)("takes the next event id after events written through the event log, and chains prevId through them", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    await db.messages.insert([{ conversationId, senderId: userId, content: "one", clientMessageId: "1" }]);
    const { events, prevId } = await db.events.inEventOrder(async ({ append }) => {
      await append({ kind: "conversation.updated", conversationId, userId, data: "{}" });
      await append({ kind: "read.updated", conversationId, userId });
    });
    expect(prevId).toBe(1n);
    expect(events.map((e) => e.id)).toEqual([2n, 3n]);
    const next = await db.messages.insert([{ conversationId, senderId: userId, content: "two", clientMessageId: "2" }]);
    expect(next.prevId).toBe(3n);
    expect(messageOf(next.results[0]).id).toBe(4n);
  });

  it.skipIf(provider.skip)("pages the main list without replies and a thread by its root, and reads the v2 columns back as Prisma does", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const { results } = await db.messages.insert(["root", "other"].map((content, i) => ({ conversationId, senderId: userId, content, clientMessageId: `m${i}` })));
    const root = messageOf(results[0]);
    const other = messageOf(results[1]);
    const replyAt = new Date("2030-01-02T03:04:05.678Z");
    const replies = [];
    for (let i = 0; i < 3; i += 1) {
      replies.push(
        await db.prisma.message.create({ data: { id: 10n + BigInt(i), conversationId, senderId: userId, content: `reply ${i}`, clientMessageId: `r${i}`, threadId: root.id, createdAt: replyAt } }),
      );
    }
    await db.prisma.message.update({
      where: { id: root.id },
      data: { replyCount: 3, lastReplyAt: replyAt, editedAt: replyAt, reactions: '[{"emoji":"x","count":1,"userIds":["u"]}]' },
    });
    const main = await db.messages.page(conversationId, null, 10);
    expect(main.map((m) => m.content)).toEqual(["other", "root"]);
    expect(main[1]).toEqual(await db.prisma.message.findUnique({ where: { id: root.id } }));
    expect(main[1]).toMatchObject({ replyCount: 3, lastReplyAt: replyAt, editedAt: replyAt, deletedAt: null, threadId: null });
    expect(main[0]).toMatchObject({ id: other.id, replyCount: 0, lastReplyAt: null, reactions: "[]" });
    expect((await db.messages.threadPage(root.id, null, 2)).map((m) => m.content)).toEqual(["reply 2", "reply 1"]);
    expect(await db.messages.threadPage(root.id, replies[1]?.id ?? 0n, 10)).toEqual([replies[0]]);
    expect(await db.messages.page(conversationId, other.id, 10)).toEqual([await db.prisma.message.findUnique({ where: { id: root.id } })]);
    expect(await db.messages.threadPageAfter(root.id, replies[0]?.id ?? 0n, 10)).toEqual(replies.slice(1));
    expect((await db.messages.threadPageAfter(root.id, 0n, 2)).map((m) => m.content)).toEqual(["reply 0", "reply 1"]);
  });

  it.skipIf(provider.skip)("a recount on markRead leaves deleted messages out", async () => {
    const db = await open(provider);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const bob = await db.prisma.user.create({ data: { username: `bob${randomBytes(3).toString("hex")}`, passwordHash: "x" } });
    await db.prisma.conversationMember.create({ data: { conversationId, userId: bob.id } });
    const { results } = await db.messages.insert(["a", "b", "c"].map((content, i) => ({ conversationId, senderId: userId, content, clientMessageId: `d${i}` })));
    const ids = results.map((r) => messageOf(r).id);
    await db.prisma.message.update({ where: { id: ids[2] }, data: { content: "", deletedAt: new Date() } });
    const { results: marked } = await db.messages.markRead([{ conversationId, userId: bob.id, messageId: ids[0] ?? 0n }]);
    expect(marked[0]).toMatchObject({ status: "moved", state: { unreadCount: 1, mentionCount: 0 } });
  });
});

describe.each(providers)("db.messages.react on $name", (provider) => {
  /** ann, bob and cat in a group, dan outside it, and one message of ann's. */
  async function seed() {
    const db = await open(provider);
    const [ann, bob, cat, dan] = await Promise.all(["ann", "bob", "cat", "dan"].map((username) => db.prisma.user.create({ data: { username, passwordHash: "x" } })));
    if (!ann || !bob || !cat || !dan) throw new Error("seed");
    const { id: conversationId } = await db.prisma.conversation.create({
      data: { title: "t", members: { create: [{ userId: ann.id }, { userId: bob.id }, { userId: cat.id }] } },
    });
    const { results } = await db.messages.insert([{ conversationId, senderId: ann.id, content: "react to me", clientMessageId: "m" }]);
    return { db, ann: ann.id, bob: bob.id, cat: cat.id, dan: dan.id, conversationId, message: messageOf(results[0]) };
  }

  it.skipIf(provider.skip)("writes the row, the aggregate in first-used order and one message.updated per change by the actor; doing it again changes nothing", async () => {
    const { db, ann, bob, cat, conversationId, message } = await seed();
    const before = Date.now();
    const first = await db.messages.react(
      [
        { messageId: message.id, userId: bob, emoji: "👍", on: true },
        { messageId: message.id, userId: ann, emoji: "🎉", on: true },
        { messageId: message.id, userId: ann, emoji: "👍", on: true },
        { messageId: message.id, userId: bob, emoji: "👍", on: true },
        { messageId: message.id, userId: cat, emoji: "❤️", on: false },
      ],
      MAX_EMOJI,
    );
    expect(first.prevId).toBe(message.id);
    expect(first.results.map((r) => r.status)).toEqual(["changed", "changed", "changed", "unchanged", "unchanged"]);
    expect(first.results.map((r) => (r.status === "changed" ? r.eventId : null))).toEqual([message.id + 1n, message.id + 2n, message.id + 3n, null, null]);
    const aggregate = [
      { emoji: "👍", count: 2, userIds: [bob, ann] },
      { emoji: "🎉", count: 1, userIds: [ann] },
    ];
    expect(reactionsOf(first.results[2])).toEqual(aggregate);
    expect(reactionsOf(first.results[4])).toEqual(aggregate);
    const changed = first.results[0];
    expect(changed?.status === "changed" && [...changed.recipientIds].sort()).toEqual([ann, bob, cat].sort());
    // The message as stored reads back through Prisma exactly as the last outcome has it.
    const stored = await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } });
    expect(first.results[4]).toEqual({ status: "unchanged", message: stored });
    expect({ ...stored, reactions: "[]" }).toEqual(message);
    const events = await db.prisma.event.findMany({ where: { id: { gt: message.id } }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.id, e.kind, e.conversationId, e.messageId, e.userId, e.data])).toEqual([
      [message.id + 1n, "message.updated", conversationId, message.id, bob, null],
      [message.id + 2n, "message.updated", conversationId, message.id, ann, null],
      [message.id + 3n, "message.updated", conversationId, message.id, ann, null],
    ]);
    const rows = await db.prisma.reaction.findMany({ orderBy: [{ userId: "asc" }, { emoji: "asc" }] });
    expect(rows.map((r) => [r.messageId, r.userId, r.emoji])).toEqual(
      [
        [message.id, bob, "👍"],
        [message.id, ann, "🎉"],
        [message.id, ann, "👍"],
      ].sort((a, b) => (`${String(a[1])}${String(a[2])}` < `${String(b[1])}${String(b[2])}` ? -1 : 1)),
    );
    for (const row of rows) {
      expect(row.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
      expect(row.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1);
    }

    // Off: the user leaves the emoji's list; an emoji nobody is left on leaves the aggregate.
    const second = await db.messages.react(
      [
        { messageId: message.id, userId: bob, emoji: "👍", on: false },
        { messageId: message.id, userId: ann, emoji: "🎉", on: false },
        { messageId: message.id, userId: ann, emoji: "🎉", on: false },
      ],
      MAX_EMOJI,
    );
    expect(second.prevId).toBe(message.id + 3n);
    expect(second.results.map((r) => r.status)).toEqual(["changed", "changed", "unchanged"]);
    expect(reactionsOf(second.results[0])).toEqual([
      { emoji: "👍", count: 1, userIds: [ann] },
      { emoji: "🎉", count: 1, userIds: [ann] },
    ]);
    expect(reactionsOf(second.results[1])).toEqual([{ emoji: "👍", count: 1, userIds: [ann] }]);
    expect(JSON.parse((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).reactions)).toEqual([{ emoji: "👍", count: 1, userIds: [ann] }]);
    expect((await db.prisma.reaction.findMany()).map((r) => [r.userId, r.emoji])).toEqual([[ann, "👍"]]);
    expect(await db.prisma.event.count()).toBe(6);
  });

  it.skipIf(provider.skip)("applies a batch in order: reactions of two people to one message both land, on then off ends off, off then on goes last", async () => {
    const { db, ann, bob, cat, message } = await seed();
    await db.messages.react([{ messageId: message.id, userId: ann, emoji: "👀", on: true }], MAX_EMOJI);
    const { results } = await db.messages.react(
      [
        { messageId: message.id, userId: bob, emoji: "👍", on: true },
        { messageId: message.id, userId: cat, emoji: "👍", on: true },
        { messageId: message.id, userId: bob, emoji: "🎉", on: true },
        { messageId: message.id, userId: bob, emoji: "🎉", on: false },
        // ann's 👀 was the first emoji: taken back and given again, it is now the last.
        { messageId: message.id, userId: ann, emoji: "👀", on: false },
        { messageId: message.id, userId: ann, emoji: "👀", on: true },
      ],
      MAX_EMOJI,
    );
    expect(results.map((r) => r.status)).toEqual(["changed", "changed", "changed", "changed", "changed", "changed"]);
    // Each outcome is the message right after its own change.
    expect(reactionsOf(results[0])).toEqual([
      { emoji: "👀", count: 1, userIds: [ann] },
      { emoji: "👍", count: 1, userIds: [bob] },
    ]);
    expect(reactionsOf(results[2])).toEqual([
      { emoji: "👀", count: 1, userIds: [ann] },
      { emoji: "👍", count: 2, userIds: [bob, cat] },
      { emoji: "🎉", count: 1, userIds: [bob] },
    ]);
    const final = [
      { emoji: "👍", count: 2, userIds: [bob, cat] },
      { emoji: "👀", count: 1, userIds: [ann] },
    ];
    expect(reactionsOf(results[5])).toEqual(final);
    expect(JSON.parse((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).reactions)).toEqual(final);
    const rows = await db.prisma.reaction.findMany();
    expect(rows.map((r) => `${r.userId}:${r.emoji}`).sort()).toEqual([`${ann}:👀`, `${bob}:👍`, `${cat}:👍`].sort());
    expect(results.map((r) => r.status === "changed" && r.eventId)).toEqual([3n, 4n, 5n, 6n, 7n, 8n]);
  });

  it.skipIf(provider.skip)("refuses a 21st emoji, also when a batch crosses the limit, and lets one in again when one leaves", async () => {
    const { db, ann, bob, message } = await seed();
    await db.messages.react(
      Array.from({ length: 18 }, (_, i) => ({ messageId: message.id, userId: ann, emoji: `e${i}`, on: true })),
      MAX_EMOJI,
    );
    const { results } = await db.messages.react(
      [
        { messageId: message.id, userId: bob, emoji: "e18", on: true },
        { messageId: message.id, userId: bob, emoji: "e19", on: true },
        { messageId: message.id, userId: bob, emoji: "e20", on: true },
        // An emoji the message has already is no new one.
        { messageId: message.id, userId: bob, emoji: "e0", on: true },
        { messageId: message.id, userId: bob, emoji: "e19", on: false },
        { messageId: message.id, userId: ann, emoji: "e20", on: true },
      ],
      MAX_EMOJI,
    );
    expect(results.map((r) => r.status)).toEqual(["changed", "changed", "too_many", "changed", "changed", "changed"]);
    const stored = JSON.parse((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).reactions) as StoredReaction[];
    expect(stored).toHaveLength(20);
    expect(stored.map((r) => r.emoji)).toEqual([...Array.from({ length: 19 }, (_, i) => `e${i}`), "e20"]);
    expect(stored[0]).toEqual({ emoji: "e0", count: 2, userIds: [ann, bob] });
    expect(await db.prisma.reaction.count({ where: { emoji: "e20" } })).toBe(1);
    expect(await db.prisma.reaction.count({ where: { userId: bob } })).toBe(2);
    // The limit is the caller's.
    const small = await db.messages.react([{ messageId: message.id, userId: bob, emoji: "e1", on: true }, { messageId: message.id, userId: bob, emoji: "new", on: true }], 20);
    expect(small.results.map((r) => r.status)).toEqual(["changed", "too_many"]);
    expect((await db.messages.react([{ messageId: message.id, userId: bob, emoji: "new", on: true }], 21)).results[0]?.status).toBe("changed");
  });

  it.skipIf(provider.skip)("writes nothing for a non-member, a member removed a moment ago, a missing message or a tombstone", async () => {
    const { db, ann, bob, dan, conversationId, message } = await seed();
    const { results: sent } = await db.messages.insert([{ conversationId, senderId: ann, content: "doomed", clientMessageId: "d" }]);
    const doomed = messageOf(sent[0]);
    await db.messages.react([{ messageId: doomed.id, userId: bob, emoji: "👍", on: true }], MAX_EMOJI);
    // Deleted as message.delete does: the rows go, the aggregate is emptied.
    await db.prisma.reaction.deleteMany({ where: { messageId: doomed.id } });
    await db.prisma.message.update({ where: { id: doomed.id }, data: { content: "", reactions: "[]", deletedAt: new Date() } });
    await db.prisma.conversationMember.delete({ where: { conversationId_userId: { conversationId, userId: bob } } });
    const events = await db.prisma.event.count();

    const { results, prevId } = await db.messages.react(
      [
        { messageId: message.id, userId: dan, emoji: "👍", on: true },
        { messageId: message.id, userId: bob, emoji: "👍", on: true },
        { messageId: 999_999n, userId: ann, emoji: "👍", on: true },
        { messageId: doomed.id, userId: ann, emoji: "👍", on: true },
        { messageId: doomed.id, userId: ann, emoji: "👍", on: false },
        { messageId: message.id, userId: ann, emoji: "👍", on: true },
      ],
      MAX_EMOJI,
    );
    expect(results.map((r) => r.status)).toEqual(["not_member", "not_member", "not_found", "deleted", "deleted", "changed"]);
    const last = results[5];
    // bob is no recipient any more.
    expect(last?.status === "changed" && [...last.recipientIds].sort()).toEqual([ann, (await db.prisma.user.findUniqueOrThrow({ where: { username: "cat" } })).id].sort());
    expect(last?.status === "changed" && last.eventId).toBe(prevId + 1n);
    expect(await db.prisma.event.count()).toBe(events + 1);
    expect((await db.prisma.reaction.findMany()).map((r) => [r.messageId, r.userId])).toEqual([[message.id, ann]]);
  });

  it.skipIf(provider.skip)("draws ids in order with messages, read pointers and ordered transactions written between, and chains prevId", async () => {
    const { db, ann, bob, conversationId, message } = await seed();
    const reacted = await db.messages.react([{ messageId: message.id, userId: bob, emoji: "👍", on: true }], MAX_EMOJI);
    const sent = await db.messages.insert([{ conversationId, senderId: ann, content: "two", clientMessageId: "2" }]);
    const read = await db.messages.markRead([{ conversationId, userId: bob, messageId: messageOf(sent.results[0]).id }]);
    const ordered = await db.events.inEventOrder(async ({ append }) => append({ kind: "conversation.updated", conversationId, userId: ann, data: "{}" }));
    const again = await db.messages.react(
      [
        { messageId: message.id, userId: ann, emoji: "👍", on: true },
        { messageId: messageOf(sent.results[0]).id, userId: bob, emoji: "🎉", on: true },
      ],
      MAX_EMOJI,
    );
    const next = await db.messages.insert([{ conversationId, senderId: ann, content: "three", clientMessageId: "3" }]);

    expect(reacted.results[0]).toMatchObject({ status: "changed", eventId: 2n });
    expect(sent.prevId).toBe(2n);
    expect(messageOf(sent.results[0]).id).toBe(3n);
    expect(read.results[0]).toMatchObject({ status: "moved", eventId: 4n });
    expect(ordered.prevId).toBe(4n);
    expect(again.prevId).toBe(5n);
    expect(again.results.map((r) => r.status === "changed" && r.eventId)).toEqual([6n, 7n]);
    expect(next.prevId).toBe(7n);
    expect(messageOf(next.results[0]).id).toBe(8n);
    expect((await db.prisma.event.findMany({ orderBy: { id: "asc" } })).map((e) => `${e.id}:${e.kind}`)).toEqual([
      "1:message.created",
      "2:message.updated",
      "3:message.created",
      "4:read.updated",
      "5:conversation.updated",
      "6:message.updated",
      "7:message.updated",
      "8:message.created",
    ]);
  });

  it.skipIf(provider.skip)("concurrent batches of reactions and messages get disjoint ids, each batch's prevId the id stored just before it", async () => {
    const { db, ann, bob, cat, conversationId, message } = await seed();
    const users = [ann, bob, cat];
    const batches = await Promise.all(
      Array.from({ length: 12 }, async (_, b) => {
        if (b % 2 === 0) {
          const { results, prevId } = await db.messages.insert([{ conversationId, senderId: ann, content: `${b}`, clientMessageId: `b${b}` }]);
          return { prevId, ids: results.map((r) => messageOf(r).id) };
        }
        const { results, prevId } = await db.messages.react(
          users.map((userId) => ({ messageId: message.id, userId, emoji: `e${b}`, on: true })),
          MAX_EMOJI,
        );
        return { prevId, ids: results.map((r) => (r.status === "changed" ? r.eventId : -1n)) };
      }),
    );
    const chain = batches.sort((a, b) => ((a.ids[0] ?? 0n) < (b.ids[0] ?? 0n) ? -1 : 1));
    let last = message.id;
    for (const { prevId, ids } of chain) {
      expect(prevId).toBe(last);
      expect(ids).toEqual(ids.map((_, i) => prevId + 1n + BigInt(i)));
      last = ids.at(-1) ?? last;
    }
    expect(last).toBe(message.id + 6n + 18n);
    const stored = JSON.parse((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).reactions) as StoredReaction[];
    expect(stored).toHaveLength(6);
    expect(stored.every((r) => r.count === 3)).toBe(true);
  });

  it.skipIf(provider.skip)("a failed batch stores nothing and leaves the store usable", async () => {
    const { db, bob, message } = await seed();
    const events = await db.prisma.event.count();
    await expect(
      db.messages.react(
        [
          { messageId: message.id, userId: bob, emoji: "👍", on: true },
          // Refused by the database (NOT NULL) after the first row was planned.
          { messageId: message.id, userId: bob, emoji: null as unknown as string, on: true },
        ],
        MAX_EMOJI,
      ),
    ).rejects.toThrow();
    expect(await db.prisma.reaction.count()).toBe(0);
    expect(await db.prisma.event.count()).toBe(events);
    expect((await db.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).reactions).toBe("[]");
    const { results } = await db.messages.react([{ messageId: message.id, userId: bob, emoji: "👍", on: true }], MAX_EMOJI);
    expect(results[0]).toMatchObject({ status: "changed", eventId: message.id + 1n });
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

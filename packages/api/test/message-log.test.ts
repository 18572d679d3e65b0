// The database as the live hub reads it (messageLogOf): every stored message after an id, oldest
// first, with the members it goes to. On each provider: PostgreSQL keeps rows in no particular
// order, so the order must come from the query.
import { expect, it } from "vitest";
import { MembershipCache } from "../src/domain/memberships.js";
import { messageLogOf } from "../src/live/message-log.js";
import { describeEachProvider, suiteDatabase } from "./helpers.js";

describeEachProvider("messageLogOf", (provider) => {
  const suite = suiteDatabase(provider);

  async function conversationOf(usernames: string[]): Promise<{ conversationId: string; memberIds: string[] }> {
    const { prisma } = suite.database.db;
    const memberIds: string[] = [];
    for (const username of usernames) memberIds.push((await prisma.user.create({ data: { username, passwordHash: "-" } })).id);
    const conversation = await prisma.conversation.create({ data: { members: { create: memberIds.map((userId) => ({ userId })) } } });
    return { conversationId: conversation.id, memberIds };
  }

  async function store(conversationId: string, senderId: string, contents: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const content of contents) {
      const row = await suite.database.db.prisma.message.create({ data: { conversationId, senderId, content, clientMessageId: `${conversationId}:${content}` } });
      ids.push(row.id.toString());
    }
    return ids;
  }

  it("reads the messages after an id, oldest first, at most `limit`, each with its conversation's members", async () => {
    const { db } = suite.database;
    const { conversationId, memberIds } = await conversationOf(["log-ann", "log-bob"]);
    const [first, ...rest] = await store(conversationId, memberIds[0] ?? "", ["one", "two", "three", "four"]);
    const log = messageLogOf({ db, memberships: new MembershipCache(db.prisma) });
    expect(await log.latestId()).toBe(BigInt(rest.at(-1) ?? ""));
    const page = await log.after(BigInt(first ?? ""), 2);
    expect(page.map(({ message }) => [message.id, message.content])).toEqual([
      [rest[0], "two"],
      [rest[1], "three"],
    ]);
    expect(page.map(({ recipientIds }) => [...recipientIds].sort())).toEqual([[...memberIds].sort(), [...memberIds].sort()]);
  });

  it("keeps id order where the table's storage does not: new rows in space freed by deleted ones", async () => {
    const { db } = suite.database;
    const { conversationId, memberIds } = await conversationOf(["log-cat", "log-dan"]);
    const sender = memberIds[0] ?? "";
    const early = await store(conversationId, sender, ["a", "b", "c", "d", "e", "f"]);
    const before = BigInt(early[0] ?? "") - 1n;
    await db.prisma.message.deleteMany({ where: { id: { in: early.slice(1, 4).map(BigInt) } } });
    if (provider === "postgresql") await db.prisma.$executeRawUnsafe('VACUUM "Message"');
    const late = await store(conversationId, sender, ["g", "h"]);
    const log = messageLogOf({ db, memberships: new MembershipCache(db.prisma) });
    const ids = (await log.after(before, 100)).map(({ message }) => message.id);
    expect(ids).toEqual([early[0], early[4], early[5], ...late]);
  });

  it("gives a message of a conversation that has no members left no recipients", async () => {
    const { db } = suite.database;
    const { conversationId, memberIds } = await conversationOf(["log-eve", "log-fay"]);
    const [id] = await store(conversationId, memberIds[0] ?? "", ["alone"]);
    await db.prisma.conversationMember.deleteMany({ where: { conversationId } });
    const log = messageLogOf({ db, memberships: new MembershipCache(db.prisma) });
    expect(await log.after(BigInt(id ?? "") - 1n, 1)).toMatchObject([{ message: { id }, recipientIds: [] }]);
  });
});

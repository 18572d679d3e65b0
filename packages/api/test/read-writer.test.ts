// ReadWriter: read pointers group-committed through db.messages.markRead, each move published as the
// read.updated entry the log would give, chained by prevId like every other event; what moves
// nothing (already read, a second mark of the same member in a batch, a non-member) publishes nothing.
import { afterAll, beforeAll, expect, it } from "vitest";
import { ReadWriter } from "../src/domain/read-writer.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import type { FeedEntry } from "../src/live/feed.js";
import { entriesOf } from "../src/live/feed-log.js";
import { openTestDatabase, type TestDatabase } from "./helpers.js";

let database: TestDatabase;
let conversationId: string;
let userIds: string[];
let outsiderId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  const prisma = database.db.prisma;
  userIds = await Promise.all(["ann", "bob", "cat", "dan"].map(async (username) => (await prisma.user.create({ data: { username, passwordHash: "-" } })).id));
  outsiderId = (await prisma.user.create({ data: { username: "out", passwordHash: "-" } })).id;
  conversationId = (await prisma.conversation.create({ data: { members: { create: userIds.map((userId) => ({ userId })) } } })).id;
});
afterAll(() => database.dispose());

interface Published {
  entry: FeedEntry;
  prevId: string;
  recipientIds: string[];
}

function setup(): { writer: ReadWriter; published: Published[] } {
  const bus = new InProcessEventBus();
  const published: Published[] = [];
  bus.subscribe((event) => {
    if (event.type === "entry") published.push({ entry: event.entry, prevId: event.prevId, recipientIds: [...event.recipientIds].sort() });
  });
  return { writer: new ReadWriter(database.db, bus), published };
}

let sent = 0;
/** Messages from the first user, stored directly; their ids in order. */
async function newMessages(count: number): Promise<bigint[]> {
  const { results } = await database.db.messages.insert(
    Array.from({ length: count }, () => {
      sent += 1;
      return { conversationId, senderId: userIds[0] ?? "", content: `m${sent}`, clientMessageId: `m${sent}` };
    }),
  );
  return results.map((outcome) => {
    if (outcome.status !== "created") throw new Error("not stored");
    return outcome.message.id;
  });
}

const user = (i: number) => userIds[i] ?? "";

it("publishes each move of a batch once, in event id order, chained by prevId, as the log would give it", async () => {
  const { writer, published } = setup();
  const [first, second] = await newMessages(2);
  const before = await database.db.messages.latestId();
  // Marked in the same turn: one batch. Bob's two marks share one move, to the further message.
  const outcomes = await Promise.all([
    writer.mark({ conversationId, userId: user(3), messageId: first ?? 0n }),
    writer.mark({ conversationId, userId: user(1), messageId: first ?? 0n }),
    writer.mark({ conversationId, userId: user(2), messageId: second ?? 0n }),
    writer.mark({ conversationId, userId: user(1), messageId: second ?? 0n }),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(["moved", "moved", "moved", "moved"]);
  const events = await database.db.events.after(before, 10);
  expect(events).toHaveLength(3);
  const fromLog = await entriesOf(database.db, events);
  expect(published.map((p) => p.entry)).toEqual(fromLog.map((e) => e.entry));
  expect(published.map((p) => p.prevId)).toEqual([before, ...events.slice(0, -1).map((e) => e.id)].map(String));
  expect(published.every((p) => p.recipientIds.join() === [...userIds].sort().join())).toBe(true);
  const reads = published.map((p) => (p.entry.kind === "read.updated" ? [p.entry.userId, p.entry.read.lastReadMessageId] : null));
  expect(new Set(reads.map((r) => JSON.stringify(r)))).toEqual(
    new Set([[user(3), String(first)], [user(1), String(second)], [user(2), String(second)]].map((r) => JSON.stringify(r))),
  );
});

it("publishes nothing for a mark that moves nothing or comes from someone who is not a member", async () => {
  const { writer, published } = setup();
  const [message] = await newMessages(1);
  const messageId = message ?? 0n;
  await writer.mark({ conversationId, userId: user(2), messageId });
  published.length = 0;
  const outcomes = await Promise.all([writer.mark({ conversationId, userId: user(2), messageId }), writer.mark({ conversationId, userId: outsiderId, messageId })]);
  expect(outcomes).toEqual([{ status: "unchanged", state: { lastReadMessageId: messageId, unreadCount: 0, mentionCount: 0 } }, { status: "not_member" }]);
  expect(published).toEqual([]);
});

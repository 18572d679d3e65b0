// ReactionWriter: reactions group-committed through db.messages.react, each change published as the
// same message.updated entry the log would give, chained by prevId like every other event.
import { afterAll, beforeAll, expect, it } from "vitest";
import { ReactionWriter, type Reacted } from "../src/domain/reaction-writer.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import type { FeedEntry } from "../src/live/feed.js";
import { entriesOf } from "../src/live/feed-log.js";
import type { MessageDto } from "../src/schemas.js";
import { openTestDatabase, type TestDatabase } from "./helpers.js";

let database: TestDatabase;
let conversationId: string;
let userIds: string[];

beforeAll(async () => {
  database = await openTestDatabase();
  const prisma = database.db.prisma;
  userIds = await Promise.all(["ann", "bob", "cat"].map(async (username) => (await prisma.user.create({ data: { username, passwordHash: "-" } })).id));
  conversationId = (await prisma.conversation.create({ data: { members: { create: userIds.map((userId) => ({ userId })) } } })).id;
});
afterAll(() => database.dispose());

interface Published {
  entry: FeedEntry;
  prevId: string;
  recipientIds: string[];
}

function setup(db = database.db): { writer: ReactionWriter; published: Published[] } {
  const bus = new InProcessEventBus();
  const published: Published[] = [];
  bus.subscribe((event) => {
    if (event.type === "entry") published.push({ entry: event.entry, prevId: event.prevId, recipientIds: event.recipientIds });
  });
  return { writer: new ReactionWriter(db, bus), published };
}

let sent = 0;
async function newMessage(): Promise<bigint> {
  sent += 1;
  const { results } = await database.db.messages.insert([{ conversationId, senderId: userIds[0] ?? "", content: `m${sent}`, clientMessageId: `m${sent}` }]);
  const outcome = results[0];
  if (outcome?.status !== "created") throw new Error("not stored");
  return outcome.message.id;
}

function messageOf(reacted: Reacted | undefined): MessageDto {
  if (!reacted || (reacted.status !== "changed" && reacted.status !== "unchanged")) throw new Error(`no message: ${JSON.stringify(reacted)}`);
  return reacted.message;
}

it("stores reactions of one turn in one batch and publishes each change in id order, each with the message right after it", async () => {
  const calls: number[] = [];
  const react = database.db.messages.react.bind(database.db.messages);
  const spy = Object.assign(Object.create(database.db.messages) as typeof database.db.messages, {
    react: (requests: Parameters<typeof react>[0], maxEmoji: number) => {
      calls.push(requests.length);
      return react(requests, maxEmoji);
    },
  });
  const { writer, published } = setup({ ...database.db, messages: spy });
  const messageId = await newMessage();

  const results = await Promise.all([
    ...userIds.map((userId) => writer.react({ messageId, userId, emoji: "👍", on: true })),
    writer.react({ messageId, userId: userIds[1] ?? "", emoji: "👍", on: true }),
  ]);
  expect(calls).toEqual([4]);
  expect(results.map((r) => r.status)).toEqual(["changed", "changed", "changed", "unchanged"]);
  expect(messageOf(results[0]).reactions).toEqual([{ emoji: "👍", count: 1, userIds: userIds.slice(0, 1) }]);
  expect(messageOf(results[3]).reactions).toEqual([{ emoji: "👍", count: 3, userIds }]);

  expect(published.map((p) => p.entry.kind)).toEqual(["message.updated", "message.updated", "message.updated"]);
  expect(published.map((p) => (p.entry.kind === "message.updated" ? p.entry.message : null))).toEqual(results.slice(0, 3).map(messageOf));
  // Chained: the first names the message's own event, each next one the change before it.
  expect(published.map((p) => p.prevId)).toEqual([messageId, messageId + 1n, messageId + 2n].map(String));
  expect(published.map((p) => p.entry.id)).toEqual([messageId + 1n, messageId + 2n, messageId + 3n].map(String));
  for (const p of published) expect([...p.recipientIds].sort()).toEqual([...userIds].sort());
  // The last entry is what the log gives for its event now.
  const events = await database.db.events.after(messageId + 2n, 10);
  const [fromLog] = await entriesOf(database.db, events);
  expect(fromLog).toEqual({ entry: published[2]?.entry, recipientIds: expect.arrayContaining(userIds) as string[] });
});

it("publishes nothing for requests that change nothing or are refused, and answers each", async () => {
  const { writer, published } = setup();
  const messageId = await newMessage();
  const results = await Promise.all([
    writer.react({ messageId, userId: userIds[0] ?? "", emoji: "👍", on: false }),
    writer.react({ messageId: 999_999n, userId: userIds[0] ?? "", emoji: "👍", on: true }),
    writer.react({ messageId, userId: "not-a-member", emoji: "👍", on: true }),
  ]);
  expect(results).toEqual([{ status: "unchanged", message: expect.objectContaining({ id: messageId.toString(), reactions: [] }) as MessageDto }, { status: "not_found" }, { status: "not_member" }]);
  expect(published).toEqual([]);
});

it("answers a reaction as stored when publishing fails, and reports the failure", async () => {
  const bus = new InProcessEventBus();
  bus.publish = () => Promise.reject(new Error("redis is down"));
  const failures: unknown[] = [];
  const writer = new ReactionWriter(database.db, bus, (error) => failures.push(error));
  const messageId = await newMessage();
  const reacted = await writer.react({ messageId, userId: userIds[2] ?? "", emoji: "🎉", on: true });
  expect(reacted).toMatchObject({ status: "changed", message: { reactions: [{ emoji: "🎉", count: 1 }] } });
  expect(failures).toHaveLength(1);
  expect(await database.db.prisma.reaction.count({ where: { messageId } })).toBe(1);
});

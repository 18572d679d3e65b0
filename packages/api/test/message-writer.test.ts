import { afterAll, beforeAll, expect, it } from "vitest";
import type { NewMessage } from "@parley/db";
import { MessageWriter, type Written } from "../src/domain/message-writer.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import type { MessageDto } from "../src/schemas.js";
import { openTestDatabase, type TestDatabase } from "./helpers.js";

let database: TestDatabase;
let conversationId: string;
let senderId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  const prisma = database.db.prisma;
  senderId = (await prisma.user.create({ data: { username: "writer", passwordHash: "-" } })).id;
  conversationId = (await prisma.conversation.create({ data: { members: { create: [{ userId: senderId }] } } })).id;
});
afterAll(() => database.dispose());

interface Published {
  message: MessageDto;
  prevId: string;
  recipientIds: string[];
}

function setup(): { writer: MessageWriter; events: Published[] } {
  const bus = new InProcessEventBus();
  const events: Published[] = [];
  bus.subscribe((event) => {
    if (event.type === "entry" && event.entry.kind === "message.created") events.push({ message: event.entry.message, prevId: event.prevId, recipientIds: event.recipientIds });
  });
  return { writer: new MessageWriter(database.db, bus), events };
}

const message = (clientMessageId: string): NewMessage => ({ conversationId, senderId, content: clientMessageId, clientMessageId });

/** The message a send was answered with. */
function sent(written: Written | undefined): MessageDto {
  if (!written || written.status === "not_member" || written.status === "bad_attachment") throw new Error(`not stored: ${JSON.stringify(written)}`);
  return written.message;
}

it("stores concurrent sends and publishes them in id order, each linked to the one before", async () => {
  const { writer, events } = setup();
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => writer.write(message(`c-${i}`))));
  expect(results.every((r) => r.status === "created")).toBe(true);
  const ids = events.map((e) => BigInt(e.message.id));
  expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
  for (let i = 1; i < events.length; i += 1) expect(events[i]?.prevId).toBe(events[i - 1]?.message.id);
  expect(new Set(results.map((r) => sent(r).id)).size).toBe(30);
  expect(events.every((e) => e.recipientIds.length === 1 && e.recipientIds[0] === senderId)).toBe(true);
});

it("answers duplicates in a batch with the stored message, stores the rest, and publishes each new one once", async () => {
  const { writer, events } = setup();
  const stored = await writer.write(message("dup-stored"));
  events.length = 0;
  const results = await Promise.all([
    writer.write(message("fresh-1")),
    writer.write(message("dup-stored")),
    writer.write(message("fresh-2")),
    writer.write(message("fresh-2")),
  ]);
  expect(results[1]).toEqual({ message: sent(stored), status: "duplicate" });
  expect(sent(results[2])).toEqual(sent(results[3]));
  expect(results.filter((r) => r.status === "created").map((r) => sent(r).content).sort()).toEqual(["fresh-1", "fresh-2"]);
  expect(events.map((e) => e.message.content).sort()).toEqual(["fresh-1", "fresh-2"]);
  expect(await database.db.prisma.message.count({ where: { clientMessageId: { in: ["fresh-1", "fresh-2", "dup-stored"] } } })).toBe(3);
});

it("stores sends that arrive in the same turn of the event loop in one transaction", async () => {
  const inserts: number[] = [];
  const insert = database.db.messages.insert.bind(database.db.messages);
  const spy = Object.assign(Object.create(database.db.messages) as typeof database.db.messages, {
    insert: (messages: Parameters<typeof insert>[0]) => {
      inserts.push(messages.length);
      return insert(messages);
    },
  });
  const counted = new MessageWriter({ ...database.db, messages: spy }, new InProcessEventBus());
  await Promise.all(Array.from({ length: 10 }, (_, i) => counted.write(message(`turn-${i}`))));
  expect(inserts).toEqual([10]);
});

it("answers a send as stored when publishing fails, and reports the failure", async () => {
  const bus = new InProcessEventBus();
  bus.publish = () => Promise.reject(new Error("redis is down"));
  const failures: unknown[] = [];
  const writer = new MessageWriter(database.db, bus, (error) => failures.push(error));
  const written = await writer.write(message("unpublished"));
  expect(written).toMatchObject({ status: "created", message: { content: "unpublished" } });
  expect(failures).toHaveLength(1);
  expect(await database.db.prisma.message.count({ where: { clientMessageId: "unpublished" } })).toBe(1);
});

it("stores more sends than one transaction takes, in order, and answers each", async () => {
  const { writer, events } = setup();
  const sends = Array.from({ length: 230 }, (_, i) => writer.write(message(`many-${i}`)));
  const written = await Promise.all(sends);
  expect(written.map((w) => sent(w).content)).toEqual(Array.from({ length: 230 }, (_, i) => `many-${i}`));
  expect(events.map((e) => e.message.id)).toEqual(written.map((w) => sent(w).id));
  for (const [i, event] of events.entries()) if (i > 0) expect(event.prevId).toBe(events[i - 1]?.message.id);
});

it("answers a send to a conversation the sender is not in with not_member, storing and publishing nothing", async () => {
  const { writer, events } = setup();
  await expect(writer.write({ ...message("no-such-conversation"), conversationId: "missing" })).resolves.toEqual({ status: "not_member" });
  expect(events).toEqual([]);
  expect(await database.db.prisma.message.count({ where: { clientMessageId: "no-such-conversation" } })).toBe(0);
});

it("rejects every send of a batch the database refuses, and stores the next batch", async () => {
  const { writer } = setup();
  const refused = writer.write({ ...message("refused"), content: null as unknown as string });
  await expect(refused).rejects.toThrow();
  await expect(writer.write(message("after-refusal"))).resolves.toMatchObject({ status: "created" });
});

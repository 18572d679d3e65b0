// The seam between backfill and live delivery in message.live, made deterministic: a message that
// is both in the database after lastEventId and published after the subscription started listening
// must be delivered once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createContext, createServices, type Services } from "../src/context.js";
import { toMessageDto } from "../src/domain/selects.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import type { MessageDto } from "../src/schemas.js";
import { openTestDatabase, settlesSoon, testConfig, type TestDatabase } from "./helpers.js";

let database: TestDatabase;
let services: Services;
let aliceId: string;
let bobId: string;
let conversationId: string;

beforeAll(async () => {
  database = await openTestDatabase();
  services = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig() });
  const prisma = database.db.prisma;
  aliceId = (await prisma.user.create({ data: { username: "alice", passwordHash: "-" } })).id;
  bobId = (await prisma.user.create({ data: { username: "bob", passwordHash: "-" } })).id;
  conversationId = (
    await prisma.conversation.create({ data: { members: { create: [{ userId: aliceId }, { userId: bobId }] } } })
  ).id;
});
afterAll(async () => {
  services.close();
  await database.dispose();
});

/** Stores a message (and its event) without publishing it. */
async function store(content: string): Promise<MessageDto> {
  const { results } = await database.db.messages.insert([{ conversationId, senderId: aliceId, content, clientMessageId: content }]);
  const [result] = results;
  if (result?.status !== "created") throw new Error("not stored");
  return toMessageDto(result.message);
}
const entryOf = (message: MessageDto) => ({ kind: "message.created" as const, id: message.id, message });

it("a message both backfilled and published at the seam is delivered once, then live ones follow", async () => {
  const seen = await store("seen");
  const atSeam = await store("at the seam");
  // Publish `atSeam` the moment the subscription starts listening - before its backfill reads the
  // database, which also holds it.
  const open = services.hub.open.bind(services.hub);
  services.hub.open = (userId) => {
    const queue = open(userId);
    void services.bus.publish({ type: "entry", entry: entryOf(atSeam), recipientIds: [aliceId, bobId], prevId: seen.id });
    return queue;
  };
  const controller = new AbortController();
  const bob = createCaller(createContext(services, services.tokens.issueAccess(bobId, "session")), { signal: controller.signal });
  const stream = (await bob.message.live({ lastEventId: seen.id }))[Symbol.asyncIterator]();
  try {
    const first = await stream.next();
    const after = await store("after");
    await services.bus.publish({ type: "entry", entry: entryOf(after), recipientIds: [aliceId, bobId], prevId: atSeam.id });
    const second = await stream.next();
    // In-process, each event is tRPC's tracked envelope: [id, data, marker].
    const delivered = [first.value, second.value] as unknown as [string, MessageDto, symbol][];
    expect(delivered.map(([id, message]) => [id, message.content])).toEqual([
      [atSeam.id, "at the seam"],
      [after.id, "after"],
    ]);
    expect(await settlesSoon(stream.next(), 50)).toBe(false);
  } finally {
    services.hub.open = open;
    controller.abort();
  }
});

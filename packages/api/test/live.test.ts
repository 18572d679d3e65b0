// message.live called in-process: what reaches the stream (backfill, then live, only the caller's
// conversations), and how it ends - revoked session, expired token, abort - giving back its slot.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createContext, createServices, defaultApiConfig, type Services } from "../src/context.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import type { MessageDto } from "../src/schemas.js";
import { fakeClock, openTestDatabase, settlesSoon, testConfig, trpcErrorOf, type FakeClock, type TestDatabase } from "./helpers.js";

let database: TestDatabase;
let services: Services;
let clock: FakeClock;
let alice: string;
let bob: string;
let carol: string;
let shared: string;
let aliceAndCarol: string;
const controllers: AbortController[] = [];
const streams: AsyncIterator<unknown>[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  clock = fakeClock(new Date());
  services = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig({ subscriptionsPerConnection: 2, limits: { ...defaultApiConfig.limits, messagesPerUser: { max: 1_000, windowSeconds: 10 } } }),
    clock,
  });
  const prisma = database.db.prisma;
  const user = async (username: string) => (await prisma.user.create({ data: { username, passwordHash: "-" } })).id;
  [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
  const conversation = async (userIds: string[]) =>
    (await prisma.conversation.create({ data: { members: { create: userIds.map((userId) => ({ userId })) } } })).id;
  shared = await conversation([alice, bob]);
  aliceAndCarol = await conversation([alice, carol]);
});

afterEach(async () => {
  for (const controller of controllers.splice(0)) controller.abort();
  // A stream suspended at a yield ends only when its consumer says so, as a transport does.
  for (const stream of streams.splice(0)) await stream.return?.(undefined).catch(() => undefined);
});

afterAll(async () => {
  services.close();
  await database.dispose();
});

let sessions = 0;

/** A caller with its own session and connection; its streams end with the test. */
function connect(userId: string, token = services.tokens.issueAccess(userId, `session-${(sessions += 1)}`)) {
  const controller = new AbortController();
  controllers.push(controller);
  const ctx = createContext(services, token);
  return { caller: createCaller(ctx, { signal: controller.signal }), controller, sessionId: services.tokens.verifyAccess(token)?.sessionId ?? "" };
}

let sent = 0;

function send(userId: string, conversationId: string): Promise<MessageDto> {
  sent += 1;
  return connect(userId).caller.message.send({ conversationId, content: `message ${sent}`, clientMessageId: `client-${sent}` });
}

type Stream = AsyncIterator<unknown>;

async function open(caller: ReturnType<typeof connect>["caller"], lastEventId?: string): Promise<Stream> {
  const stream = (await caller.message.live(lastEventId === undefined ? undefined : { lastEventId }))[Symbol.asyncIterator]();
  streams.push(stream);
  return stream;
}

/** The message ids of the next `count` events (in-process, each is tRPC's tracked envelope: [id, data, marker]). */
async function nextIds(stream: Stream, count: number): Promise<string[]> {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const next = await stream.next();
    if (next.done) break;
    ids.push((next.value as [string, MessageDto, symbol])[0]);
  }
  return ids;
}

/**
 * Waits (bounded) until the hub has `count` subscriptions: a stream's procedure has run (on its first
 * next()), or an ended one has given its subscription back.
 */
async function subscriptions(count: number): Promise<void> {
  for (let i = 0; i < 200 && services.hub.subscriptionCount !== count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(services.hub.subscriptionCount).toBe(count);
}

describe("message.live", () => {
  it("streams messages of the caller's conversations sent after it started, and no one else's", async () => {
    const stream = await open(connect(bob).caller);
    const pending = nextIds(stream, 2);
    await subscriptions(1);
    const first = await send(alice, shared);
    await send(alice, aliceAndCarol);
    const second = await send(alice, shared);
    expect(await pending).toEqual([first.id, second.id]);
  });

  it("backfills everything after lastEventId, more than one page of it, before live messages", async () => {
    const start = await send(alice, shared);
    await send(alice, aliceAndCarol);
    // More than a replay page, stored directly (with their events, unpublished): how they were sent is not what this is about.
    await database.db.messages.insert(Array.from({ length: 520 }, (_, i) => ({ conversationId: shared, senderId: alice, content: `bulk ${i}`, clientMessageId: `bulk-${i}` })));
    const stored = await database.db.prisma.message.findMany({ where: { conversationId: shared, id: { gt: BigInt(start.id) } }, orderBy: { id: "asc" } });
    expect(stored).toHaveLength(520);
    const stream = await open(connect(bob).caller, start.id);
    const backfilled = await nextIds(stream, stored.length);
    expect(backfilled).toEqual(stored.map((m) => m.id.toString()));
    const live = nextIds(stream, 1);
    const after = await send(alice, shared);
    expect(await live).toEqual([after.id]);
  });

  it("receives, when the hub catches up, messages stored without an event, in order and only its own", async () => {
    const stream = await open(connect(bob).caller);
    const first = stream.next();
    await subscriptions(1);
    // Stored by another instance whose events never arrived: more than one page of the hub's reads.
    const before = services.hub.lastDeliveredId;
    await database.db.messages.insert(
      Array.from({ length: 510 }, (_, i) => ({
        conversationId: i % 2 === 0 ? shared : aliceAndCarol,
        senderId: alice,
        content: `unannounced ${i}`,
        clientMessageId: `unannounced-${i}`,
      })),
    );
    const expected = await database.db.prisma.message.findMany({ where: { conversationId: shared, id: { gt: before } }, orderBy: { id: "asc" } });
    await services.hub.catchUp();
    const ids = [((await first).value as [string, MessageDto, symbol])[0], ...(await nextIds(stream, expected.length - 1))];
    expect(ids).toEqual(expected.map((m) => m.id.toString()));
    expect(services.hub.lastDeliveredId).toBe((await database.db.prisma.message.findFirstOrThrow({ orderBy: { id: "desc" } })).id);
  });

  it("ends with UNAUTHORIZED when its session is revoked on any instance", async () => {
    const connection = connect(bob);
    const stream = await open(connection.caller);
    const ended = stream.next();
    await subscriptions(1);
    await services.bus.publish({ type: "session-revoked", sessionId: connection.sessionId, expiresAt: clock.now().getTime() + 60_000 });
    expect((await trpcErrorOf(ended)).code).toBe("UNAUTHORIZED");
    await subscriptions(0);
  });

  it("ends with UNAUTHORIZED when its session is revoked while it is being set up", async () => {
    const connection = connect(bob);
    const openQueue = services.hub.open.bind(services.hub);
    services.hub.open = (userId) => {
      services.revokedSessions.add(connection.sessionId, clock.now().getTime() + 60_000);
      return openQueue(userId);
    };
    try {
      const stream = await open(connection.caller);
      expect((await trpcErrorOf(stream.next())).code).toBe("UNAUTHORIZED");
    } finally {
      services.hub.open = openQueue;
    }
  });

  it("ends with UNAUTHORIZED a second after its access token expires", async () => {
    const token = services.tokens.issueAccess(bob, "session-expiring");
    clock.advanceSeconds(testConfig().accessTtlSeconds - 1);
    try {
      const stream = await open(connect(bob, token).caller);
      const ended = stream.next();
      expect(await settlesSoon(ended, 500)).toBe(false);
      expect((await trpcErrorOf(ended)).code).toBe("UNAUTHORIZED");
    } finally {
      clock.advanceSeconds(-(testConfig().accessTtlSeconds - 1));
    }
  });

  it("gives a connection a limited number of streams, and an ended one gives its slot back", async () => {
    // Streams of one connection (one context), each with its own signal, as over one WebSocket.
    const ctx = createContext(services, services.tokens.issueAccess(bob, "session-with-many-streams"));
    const streamOn = async () => {
      const controller = new AbortController();
      controllers.push(controller);
      // A stream's procedure runs on its first next().
      const first = (await open(createCaller(ctx, { signal: controller.signal }))).next();
      return { controller, first };
    };
    const one = await streamOn();
    void (await streamOn()).first.catch(() => undefined);
    await subscriptions(2);
    expect((await trpcErrorOf((await streamOn()).first)).code).toBe("TOO_MANY_REQUESTS");
    // Another connection has slots of its own.
    void (await open(connect(bob).caller)).next().catch(() => undefined);
    await subscriptions(3);
    one.controller.abort();
    await one.first;
    await subscriptions(2);
    void (await streamOn()).first.catch(() => undefined);
    await subscriptions(3);
  });

  it("releases its subscription when the caller aborts", async () => {
    const connection = connect(bob);
    const stream = await open(connection.caller);
    const ended = stream.next();
    await subscriptions(1);
    connection.controller.abort();
    await ended.catch(() => undefined);
    await subscriptions(0);
  });
});

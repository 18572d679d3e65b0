// typing.set: who hears that someone is typing, how often, and across instances (the contract's
// Typing rule). In-process, with a clock the tests move; the instances of the last suite talk
// through Redis (TEST_REDIS_URL).
import { randomUUID } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createContext, createServices } from "../src/context.js";
import { InProcessEventBus, type EventBus, type ParleyEvent } from "../src/live/event-bus.js";
import { RedisEventBus } from "../src/live/redis-bus.js";
import { Throttle } from "../src/live/throttle.js";
import { TypingService } from "../src/live/typing.js";
import { createCaller } from "../src/root.js";
import { ephemeralRecorder, fakeClock, suiteDatabase, testConfig, trpcErrorOf, type FakeClock } from "./helpers.js";

const suite = suiteDatabase();
let alice: string;
let bob: string;
let carol: string;
let dave: string;
/** alice, bob and carol; dave is in none of the conversations alice types in. */
let team: string;
/** alice and bob. */
let pair: string;

beforeAll(async () => {
  const { prisma } = suite.database.db;
  const user = async (username: string) => (await prisma.user.create({ data: { username, passwordHash: "-" } })).id;
  [alice, bob, carol, dave] = [await user("alice"), await user("bob"), await user("carol"), await user("dave")];
  const conversation = async (userIds: string[]) => (await prisma.conversation.create({ data: { members: { create: userIds.map((userId) => ({ userId })) } } })).id;
  team = await conversation([alice, bob, carol]);
  pair = await conversation([alice, bob]);
  await conversation([carol, dave]);
});

/** One instance: its services on `bus`, what it hands to its users' streams, and the bus messages it publishes. */
async function instance(bus: EventBus = new InProcessEventBus(), clock: FakeClock = fakeClock()) {
  const recorder = ephemeralRecorder();
  const published: ParleyEvent[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = (event) => {
    published.push(event);
    return publish(event);
  };
  const services = await createServices({ db: suite.database.db, bus, config: testConfig(), clock, deliverEphemeral: recorder.deliver });
  suite.opened.push(services);
  const callerOf = (userId: string) => createCaller(createContext(services, services.tokens.issueAccess(userId, `session-${userId}`)));
  const typingBy = (userId: string) => recorder.delivered.filter(({ event }) => event.type === "typing" && event.userId === userId);
  return { services, clock, delivered: recorder.delivered, published, callerOf, typingBy };
}

describe("typing.set", () => {
  it("reaches the other members of the conversation, not the typer nor anyone outside it", async () => {
    const { callerOf, delivered } = await instance();
    expect(await callerOf(alice).typing.set({ conversationId: team })).toEqual({ ok: true });
    expect(delivered).toEqual([{ userIds: [bob, carol].sort(), event: { type: "typing", conversationId: team, userId: alice } }]);
  });

  it("passes on at most one per user and conversation per 2 seconds, and publishes nothing in between", async () => {
    const { callerOf, clock, typingBy, published } = await instance();
    const typing = callerOf(alice).typing;
    await typing.set({ conversationId: team });
    clock.advanceSeconds(1);
    await typing.set({ conversationId: team });
    clock.advanceSeconds(0.999);
    expect(await typing.set({ conversationId: team })).toEqual({ ok: true });
    expect(typingBy(alice)).toHaveLength(1);
    expect(published.filter((event) => event.type === "typing")).toHaveLength(1);
    clock.advanceSeconds(0.001);
    await typing.set({ conversationId: team });
    expect(typingBy(alice)).toHaveLength(2);
  });

  it("throttles each conversation and each user on their own", async () => {
    const { callerOf, typingBy } = await instance();
    await callerOf(alice).typing.set({ conversationId: team });
    await callerOf(alice).typing.set({ conversationId: pair });
    await callerOf(bob).typing.set({ conversationId: team });
    expect(typingBy(alice).map(({ event }) => event.type === "typing" && event.conversationId)).toEqual([team, pair]);
    expect(typingBy(bob)).toEqual([{ userIds: [alice, carol].sort(), event: { type: "typing", conversationId: team, userId: bob } }]);
  });

  it("a receiving instance times the throttle by when each was sent, not when it arrived", async () => {
    const { services, typingBy } = await instance();
    const sentAt = (at: number) => services.bus.publish({ type: "typing", conversationId: team, userId: alice, recipientIds: [bob, carol], at });
    // The clock here stands still; the sender's moved by 2 s, then by 1.999 s.
    await sentAt(10_000);
    await sentAt(12_000);
    await sentAt(13_999);
    expect(typingBy(alice)).toHaveLength(2);
  });

  it("is FORBIDDEN to a non-member and NOT_FOUND for a conversation that does not exist, and sends nothing", async () => {
    const { callerOf, delivered, published } = await instance();
    expect((await trpcErrorOf(callerOf(dave).typing.set({ conversationId: team }))).code).toBe("FORBIDDEN");
    expect((await trpcErrorOf(callerOf(alice).typing.set({ conversationId: "no-such-conversation" }))).code).toBe("NOT_FOUND");
    expect(delivered).toEqual([]);
    expect(published.filter((event) => event.type === "typing")).toEqual([]);
  });

  it.each([
    ["no conversationId", {}],
    ["an empty conversationId", { conversationId: "" }],
    ["a conversationId of 65 characters", { conversationId: "c".repeat(65) }],
    ["a number", { conversationId: 7 }],
  ])("refuses %s with BAD_REQUEST", async (_, input) => {
    const { callerOf, delivered } = await instance();
    const error = await trpcErrorOf(callerOf(alice).typing.set(input as { conversationId: string }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(delivered).toEqual([]);
  });
});

describe("the typing service", () => {
  const closing: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  /** A service on `bus`: what it hands to its users' streams, what it publishes, and the errors it reports. */
  function service(bus: EventBus = new InProcessEventBus(), options: { reportErrors?: boolean } = {}) {
    const clock = fakeClock();
    const recorder = ephemeralRecorder();
    const errors: unknown[] = [];
    const attempts: Promise<void>[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = (event) => {
      const attempt = publish(event);
      attempts.push(attempt);
      return attempt;
    };
    const typing = new TypingService({ bus, clock, deliver: recorder.deliver, onError: options.reportErrors === false ? undefined : (error) => errors.push(error) });
    closing.push(() => typing.close());
    return { typing, clock, delivered: recorder.delivered, errors, published: attempts, bus };
  }
  /** A Redis bus that cannot reach Redis: every publish fails at once. */
  function unreachableBus(): RedisEventBus {
    const bus = new RedisEventBus("redis://127.0.0.1:1", { channel: "parley:test:unreachable" });
    closing.push(() => bus.close());
    return bus;
  }

  it("set says whether it published: true for the first, false within 2 s of it, true again after", () => {
    const { typing, clock, delivered } = service();
    const members = new Set([alice, bob]);
    expect(typing.set(alice, team, members)).toBe(true);
    clock.advanceSeconds(1.999);
    expect(typing.set(alice, team, members)).toBe(false);
    clock.advanceSeconds(0.001);
    expect(typing.set(alice, team, members)).toBe(true);
    expect(delivered).toHaveLength(2);
  });

  it("publishes nothing, and says so, for a conversation with nobody but the typer", () => {
    const { typing, published, delivered } = service();
    expect(typing.set(alice, team, new Set([alice]))).toBe(false);
    expect(published).toEqual([]);
    expect(delivered).toEqual([]);
  });

  it("a publish that fails reaches onError; set still counts it as passed on", async () => {
    const { typing, errors, published } = service(unreachableBus());
    expect(typing.set(alice, team, new Set([alice, bob]))).toBe(true);
    await Promise.allSettled(published);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/enableOfflineQueue/);
  });

  it("without onError a failed publish is dropped quietly", async () => {
    const rejections: unknown[] = [];
    const listener = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", listener);
    closing.push(() => process.off("unhandledRejection", listener));
    const { typing, published } = service(unreachableBus(), { reportErrors: false });
    typing.set(alice, team, new Set([alice, bob]));
    await Promise.allSettled(published);
    // Node reports a rejection left unhandled once the microtasks have run.
    await new Promise((resolve) => setImmediate(resolve));
    expect(rejections).toEqual([]);
  });

  it("after close() typing on the bus reaches nobody here", async () => {
    const { typing, bus, delivered } = service();
    typing.close();
    await bus.publish({ type: "typing", conversationId: team, userId: alice, recipientIds: [bob], at: 0 });
    expect(delivered).toEqual([]);
  });
});

describe("the typing throttle", () => {
  it("forgets a key once its interval has passed, so its memory holds only the last 2 seconds", () => {
    const throttle = new Throttle(2_000);
    for (let i = 0; i < 1_000; i++) expect(throttle.pass(`key-${i}`, i)).toBe(true);
    expect(throttle.pass("key-999", 1_000)).toBe(false);
    expect(throttle.size).toBe(1_000);
    expect(throttle.pass("later", 2_500)).toBe(true);
    // key-0 .. key-500 passed at or before 500 ms: 2 s old at 2.5 s.
    expect(throttle.size).toBe(1_000 - 501 + 1);
    expect(throttle.pass("key-0", 2_500)).toBe(true);
  });

  it("remembers at most 100,000 keys, forgetting the oldest first, however many pass within one interval", () => {
    const throttle = new Throttle(60_000);
    for (let i = 0; i < 100_000; i++) throttle.pass(`key-${i}`, 0);
    expect(throttle.size).toBe(100_000);
    expect(throttle.pass("one more", 1)).toBe(true);
    expect(throttle.size).toBe(100_000);
    // key-0 was forgotten to make room, so it passes again (and key-1 makes room for it); key-2 still waits.
    expect(throttle.pass("key-0", 2)).toBe(true);
    expect(throttle.pass("key-2", 2)).toBe(false);
    expect(throttle.pass("key-1", 2)).toBe(true);
    expect(throttle.size).toBe(100_000);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.warn("TEST_REDIS_URL is not set: the typing tests across two instances through Redis are skipped");

describe.runIf(redisUrl)("typing across two instances through Redis", () => {
  const buses: RedisEventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  async function twoInstances() {
    const channel = `parley:test:typing:${randomUUID()}`;
    const clock = fakeClock();
    const [busA, busB] = [new RedisEventBus(redisUrl ?? "", { channel }), new RedisEventBus(redisUrl ?? "", { channel })];
    buses.push(busA, busB);
    await Promise.all([busA.ready(), busB.ready()]);
    return { clock, a: await instance(busA, clock), b: await instance(busB, clock) };
  }

  it("reaches members connected to either instance", async () => {
    const { a, b } = await twoInstances();
    await a.callerOf(alice).typing.set({ conversationId: team });
    const event = { userIds: [bob, carol].sort(), event: { type: "typing", conversationId: team, userId: alice } };
    await vi.waitFor(() => expect([a.delivered, b.delivered]).toEqual([[event], [event]]), { timeout: 5_000, interval: 10 });
  });

  it("one user typing in two tabs on two instances is passed on once per 2 seconds on each instance", async () => {
    const { clock, a, b } = await twoInstances();
    // Each instance's own send throttle lets its tab through: both publish.
    await a.callerOf(alice).typing.set({ conversationId: team });
    await b.callerOf(alice).typing.set({ conversationId: team });
    // Redis delivers one channel's messages in order: once carol's arrives, alice's two have too.
    await b.callerOf(carol).typing.set({ conversationId: team });
    await vi.waitFor(() => expect([a.typingBy(carol).length, b.typingBy(carol).length]).toEqual([1, 1]), { timeout: 5_000, interval: 10 });
    expect([a.typingBy(alice).length, b.typingBy(alice).length]).toEqual([1, 1]);

    clock.advanceSeconds(2);
    await b.callerOf(alice).typing.set({ conversationId: team });
    await vi.waitFor(() => expect([a.typingBy(alice).length, b.typingBy(alice).length]).toEqual([2, 2]), { timeout: 5_000, interval: 10 });
  });
});

// Presence (the contract's Presence rule): who is online, away or offline, who is told, and how
// instances share it. Connections are counted the way apps/server counts authenticated WebSockets
// (presence.connected / disconnected); time moves only when a test moves the clock and ticks.
// Several instances share one in-process bus (deterministic) or, in the last suite, Redis.
import { randomUUID } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createContext, createServices, defaultApiConfig, type ApiConfig } from "../src/context.js";
import { InProcessEventBus, type EventBus } from "../src/live/event-bus.js";
import type { PresenceStatus } from "../src/live/ephemeral.js";
import { defaultPresenceTimes } from "../src/live/presence.js";
import { RedisEventBus } from "../src/live/redis-bus.js";
import { createCaller } from "../src/root.js";
import { PRESENCE_QUERY_MAX } from "../src/schemas.js";
import { ephemeralRecorder, fakeClock, suiteDatabase, testConfig, trpcErrorOf, type FakeClock } from "./helpers.js";

const GRACE = defaultPresenceTimes.graceSeconds;
const EXPIRY = defaultPresenceTimes.expirySeconds;

const suite = suiteDatabase();
let alice: string;
let bob: string;
let carol: string;
let dave: string;

beforeAll(async () => {
  const { prisma } = suite.database.db;
  const user = async (username: string) => (await prisma.user.create({ data: { username, passwordHash: "-" } })).id;
  [alice, bob, carol, dave] = [await user("alice"), await user("bob"), await user("carol"), await user("dave")];
  const conversation = (userIds: string[]) => prisma.conversation.create({ data: { members: { create: userIds.map((userId) => ({ userId })) } } });
  // alice and bob share two conversations; carol and dave are strangers to them.
  await conversation([alice, bob]);
  await conversation([alice, bob, dave]);
  await conversation([carol, dave]);
});

type Instance = Awaited<ReturnType<typeof instance>>;

/** One instance on `bus`: its services, and what it hands to its users' streams. */
async function instance(options: { bus?: EventBus; clock?: FakeClock; config?: Partial<ApiConfig> } = {}) {
  const { bus = new InProcessEventBus(), clock = fakeClock() } = options;
  const recorder = ephemeralRecorder();
  const services = await createServices({ db: suite.database.db, bus, config: testConfig(options.config), clock, deliverEphemeral: recorder.deliver });
  suite.opened.push(services);
  const callerOf = (userId: string) => createCaller(createContext(services, services.tokens.issueAccess(userId, `session-${userId}`)));
  /** Waits (bounded) until every change has been told to this instance's users. */
  const settled = () => vi.waitFor(() => expect(services.presence.pendingAnnouncements).toBe(0), { timeout: 5_000, interval: 5 });
  /** What this instance told about `userId`: [recipients, status] per event, after every change was told. */
  const toldAbout = async (userId: string): Promise<[string[], PresenceStatus][]> => {
    await settled();
    return recorder.delivered.flatMap(({ userIds, event }) => (event.type === "presence" && event.userId === userId ? [[userIds, event.status]] : []));
  };
  const statusOf = async (userId: string) => (await callerOf(dave).user.presence({ userIds: [userId] }))[0]?.status;
  return { services, clock, presence: services.presence, delivered: recorder.delivered, callerOf, settled, toldAbout, statusOf };
}

/** Connects users in turn, each one's change told before the next connects. */
async function connect(at: Instance, ...userIds: string[]): Promise<void> {
  for (const userId of userIds) {
    at.presence.connected(userId);
    await at.settled();
  }
}

describe("presence on one instance", () => {
  it("a user who connects is online, told to their connected contacts only: not to strangers, not to themselves", async () => {
    const here = await instance();
    await connect(here, bob, carol, alice);
    expect(await here.toldAbout(alice)).toEqual([[[bob], "online"]]);
    expect(await here.statusOf(alice)).toBe("online");
  });

  it("away and active reach contacts as away and online; saying the current status again sends nothing", async () => {
    const here = await instance();
    await connect(here, bob, alice);
    const { presence } = here.callerOf(alice);
    expect(await presence.set({ status: "away" })).toEqual({ ok: true });
    expect(await here.statusOf(alice)).toBe("away");
    await presence.set({ status: "away" });
    await presence.set({ status: "active" });
    await presence.set({ status: "active" });
    expect(await here.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "away"],
      [[bob], "online"],
    ]);
  });

  it("after the last connection closes the user stays online for the grace period, then goes offline", async () => {
    const here = await instance();
    await connect(here, bob, alice, alice);
    here.presence.disconnected(alice);
    here.presence.disconnected(alice);
    here.clock.advanceSeconds(GRACE - 1);
    here.presence.tick();
    expect(await here.statusOf(alice)).toBe("online");
    here.clock.advanceSeconds(1);
    here.presence.tick();
    expect(await here.statusOf(alice)).toBe("offline");
    expect(await here.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "offline"],
    ]);
  });

  it("a reload within the grace period sends nothing, and the user stays away if they were", async () => {
    const here = await instance();
    await connect(here, bob, alice);
    await here.callerOf(alice).presence.set({ status: "away" });
    here.presence.disconnected(alice);
    here.clock.advanceSeconds(GRACE - 1);
    here.presence.tick();
    here.presence.connected(alice);
    here.clock.advanceSeconds(GRACE * 3);
    here.presence.tick();
    expect(await here.statusOf(alice)).toBe("away");
    expect(await here.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "away"],
    ]);
  });

  it("a user offline again comes back online, not away", async () => {
    const here = await instance();
    await connect(here, bob, alice);
    await here.callerOf(alice).presence.set({ status: "away" });
    await here.settled();
    here.presence.disconnected(alice);
    here.clock.advanceSeconds(GRACE);
    here.presence.tick();
    await here.settled();
    await connect(here, alice);
    expect(await here.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "away"],
      [[bob], "offline"],
      [[bob], "online"],
    ]);
  });

  it("presence.set without an open connection changes nothing and is not counted against the limit", async () => {
    const here = await instance({ config: { limits: { ...defaultApiConfig.limits, presenceChangesPerUser: { max: 1, windowSeconds: 60 } } } });
    const { presence } = here.callerOf(alice);
    for (let i = 0; i < 3; i++) await presence.set({ status: i % 2 === 0 ? "away" : "active" });
    expect(await here.statusOf(alice)).toBe("offline");
    await connect(here, alice);
    await presence.set({ status: "away" });
    expect(await here.statusOf(alice)).toBe("away");
  });

  it("changing status more often than the limit allows is TOO_MANY_REQUESTS and changes nothing", async () => {
    const here = await instance({ config: { limits: { ...defaultApiConfig.limits, presenceChangesPerUser: { max: 2, windowSeconds: 60 } } } });
    await connect(here, bob, alice);
    const { presence } = here.callerOf(alice);
    await presence.set({ status: "away" });
    await presence.set({ status: "active" });
    const error = await trpcErrorOf(presence.set({ status: "away" }));
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toMatch(/^Too many presence changes\. Try again in \d+ seconds\.$/);
    expect(await here.statusOf(alice)).toBe("online");
    // Saying the current status again is not a change: still answered.
    expect(await presence.set({ status: "active" })).toEqual({ ok: true });
  });

  it.each([["online"], ["offline"], [""], [undefined]])("presence.set refuses status %j with BAD_REQUEST", async (status) => {
    const here = await instance();
    const error = await trpcErrorOf(here.callerOf(alice).presence.set({ status } as unknown as { status: "away" }));
    expect(error.code).toBe("BAD_REQUEST");
  });
});

describe("user.presence", () => {
  it("answers each named user once, in the order named, with ids that name nobody offline", async () => {
    const here = await instance();
    await connect(here, alice, bob);
    await here.callerOf(bob).presence.set({ status: "away" });
    const answer = await here.callerOf(carol).user.presence({ userIds: [bob, "nobody", alice, bob, dave] });
    expect(answer).toEqual([
      { userId: bob, status: "away" },
      { userId: "nobody", status: "offline" },
      { userId: alice, status: "online" },
      { userId: dave, status: "offline" },
    ]);
    expect(await here.callerOf(carol).user.presence({ userIds: [] })).toEqual([]);
  });

  it(`takes ${PRESENCE_QUERY_MAX} ids and refuses ${PRESENCE_QUERY_MAX + 1} with BAD_REQUEST`, async () => {
    const here = await instance();
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);
    expect(await here.callerOf(alice).user.presence({ userIds: ids(PRESENCE_QUERY_MAX) })).toHaveLength(PRESENCE_QUERY_MAX);
    const error = await trpcErrorOf(here.callerOf(alice).user.presence({ userIds: ids(PRESENCE_QUERY_MAX + 1) }));
    expect(error.code).toBe("BAD_REQUEST");
  });

  it.each([["an empty id", { userIds: [""] }], ["no userIds", {}], ["a string", { userIds: "alice" }]])("refuses %s with BAD_REQUEST", async (_, input) => {
    const here = await instance();
    const error = await trpcErrorOf(here.callerOf(alice).user.presence(input as { userIds: string[] }));
    expect(error.code).toBe("BAD_REQUEST");
  });
});

describe("presence across instances sharing a bus", () => {
  async function twoInstances() {
    const bus = new InProcessEventBus();
    const clock = fakeClock();
    const a = await instance({ bus, clock });
    const b = await instance({ bus, clock });
    a.presence.tick();
    b.presence.tick();
    return { clock, a, b };
  }

  it("a user connected to one instance is online for a contact connected to another", async () => {
    const { a, b } = await twoInstances();
    await connect(b, bob);
    await connect(a, alice);
    expect(await b.toldAbout(alice)).toEqual([[[bob], "online"]]);
    expect(await b.statusOf(alice)).toBe("online");
    expect(await a.toldAbout(bob)).toEqual([]);
    expect(await a.statusOf(bob)).toBe("online");
  });

  it("saying away on one instance makes the user away on every instance, and a new tab elsewhere stays away", async () => {
    const { a, b } = await twoInstances();
    await connect(a, bob, alice);
    await b.callerOf(alice).presence.set({ status: "away" });
    expect([await a.statusOf(alice), await b.statusOf(alice)]).toEqual(["away", "away"]);
    await connect(b, alice);
    expect([await a.statusOf(alice), await b.statusOf(alice)]).toEqual(["away", "away"]);
    expect(await a.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "away"],
    ]);
    await a.callerOf(alice).presence.set({ status: "active" });
    expect([await a.statusOf(alice), await b.statusOf(alice)]).toEqual(["online", "online"]);
  });

  it("a user connected to two instances stays online until both have let them go", async () => {
    const { clock, a, b } = await twoInstances();
    await connect(b, bob);
    await connect(a, alice);
    await connect(b, alice);
    a.presence.disconnected(alice);
    clock.advanceSeconds(GRACE);
    a.presence.tick();
    expect(await b.statusOf(alice)).toBe("online");
    b.presence.disconnected(alice);
    clock.advanceSeconds(GRACE);
    b.presence.tick();
    expect(await b.statusOf(alice)).toBe("offline");
    expect(await b.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "offline"],
    ]);
  });

  it("an instance that starts later learns who is online from the others at once", async () => {
    const bus = new InProcessEventBus();
    const clock = fakeClock();
    const a = await instance({ bus, clock });
    await connect(a, alice);
    const late = await instance({ bus, clock });
    expect(await late.statusOf(alice)).toBe("offline");
    late.presence.tick();
    expect(await late.statusOf(alice)).toBe("online");
  });

  it("an instance that falls silent (crashed) is dropped with its users once the expiry passes", async () => {
    const { clock, a, b } = await twoInstances();
    await connect(b, bob);
    await connect(a, alice);
    // From here on `a` sends nothing, as if killed: no heartbeat, no goodbye.
    for (let second = 1; second < EXPIRY; second++) {
      clock.advanceSeconds(1);
      b.presence.tick();
    }
    expect(await b.statusOf(alice)).toBe("online");
    clock.advanceSeconds(1);
    b.presence.tick();
    expect(await b.statusOf(alice)).toBe("offline");
    expect(await b.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "offline"],
    ]);
  });

  it("a statement older than the one known does not undo it, whatever carries it (a heartbeat that crossed it on the bus)", async () => {
    const { a } = await twoInstances();
    await connect(a, bob, alice);
    await a.callerOf(alice).presence.set({ status: "away" });
    // Another instance's heartbeat, sent before it heard alice say away, arrives after it.
    await a.services.bus.publish({ type: "presence", instanceId: "crossing", kind: "snapshot", users: [alice], statements: [{ userId: alice, away: false, at: 0 }] });
    expect(await a.statusOf(alice)).toBe("away");
    expect(await a.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "away"],
    ]);
  });

  it("an instance's heartbeat replaces what the others knew of it: a user it no longer lists goes offline", async () => {
    const here = await instance();
    await connect(here, bob);
    const heartbeat = (users: string[]) => here.services.bus.publish({ type: "presence", instanceId: "elsewhere", kind: "snapshot", users, statements: [] });
    await heartbeat([alice, dave]);
    expect([await here.statusOf(alice), await here.statusOf(dave)]).toEqual(["online", "online"]);
    // The message saying it let alice go was lost; its next heartbeat no longer lists her.
    await heartbeat([dave]);
    expect([await here.statusOf(alice), await here.statusOf(dave)]).toEqual(["offline", "online"]);
    expect(await here.toldAbout(alice)).toEqual([
      [[bob], "online"],
      [[bob], "offline"],
    ]);
  });

  it("a heartbeat keeps an instance's users online past the expiry", async () => {
    const { clock, a, b } = await twoInstances();
    await connect(a, alice);
    for (let second = 1; second <= EXPIRY * 3; second++) {
      clock.advanceSeconds(1);
      a.presence.tick();
      b.presence.tick();
    }
    expect(await b.statusOf(alice)).toBe("online");
  });

  it("an instance that stops cleanly lets its users go after the grace period, unless they reconnect elsewhere in time", async () => {
    const { clock, a, b } = await twoInstances();
    await connect(b, bob);
    await connect(a, alice, dave);
    a.services.close();
    clock.advanceSeconds(GRACE - 1);
    b.presence.tick();
    expect([await b.statusOf(alice), await b.statusOf(dave)]).toEqual(["online", "online"]);
    await connect(b, dave);
    clock.advanceSeconds(1);
    b.presence.tick();
    expect([await b.statusOf(alice), await b.statusOf(dave)]).toEqual(["offline", "online"]);
    expect(await b.toldAbout(dave)).toEqual([[[bob], "online"]]);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.warn("TEST_REDIS_URL is not set: the presence tests across two instances through Redis are skipped");

describe.runIf(redisUrl)("presence across two instances through Redis", () => {
  const buses: RedisEventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  async function twoInstances() {
    const channel = `parley:test:presence:${randomUUID()}`;
    const clock = fakeClock();
    const [busA, busB] = [new RedisEventBus(redisUrl ?? "", { channel }), new RedisEventBus(redisUrl ?? "", { channel })];
    buses.push(busA, busB);
    await Promise.all([busA.ready(), busB.ready()]);
    const a = await instance({ bus: busA, clock });
    const b = await instance({ bus: busB, clock });
    return { clock, busA, a, b };
  }

  const eventually = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 5_000, interval: 10 });

  it("a user connected to A is online for a contact on B, and away when they say so on B", async () => {
    const { a, b } = await twoInstances();
    b.presence.connected(bob);
    a.presence.connected(alice);
    await eventually(async () => expect(await b.toldAbout(alice)).toEqual([[[bob], "online"]]));
    await b.callerOf(alice).presence.set({ status: "away" });
    await eventually(async () => expect([await a.statusOf(alice), await b.statusOf(alice)]).toEqual(["away", "away"]));
    await eventually(async () => expect(await b.toldAbout(alice)).toEqual([[[bob], "online"], [[bob], "away"]]));
  });

  it("when A dies without a word, its users go offline on B once the expiry passes", async () => {
    const { clock, busA, a, b } = await twoInstances();
    b.presence.connected(bob);
    a.presence.connected(alice);
    await eventually(async () => expect(await b.statusOf(alice)).toBe("online"));
    // Killed: A's link to Redis is gone and nothing more comes from it.
    await busA.close();
    clock.advanceSeconds(EXPIRY - 1);
    b.presence.tick();
    expect(await b.statusOf(alice)).toBe("online");
    clock.advanceSeconds(1);
    b.presence.tick();
    expect(await b.statusOf(alice)).toBe("offline");
    expect(await b.toldAbout(alice)).toEqual([[[bob], "online"], [[bob], "offline"]]);
  });
});

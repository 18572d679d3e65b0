// PresenceService on its own, without a database: conversations are an in-memory map, the bus is
// in-process (or a Redis that cannot be reached, for failures), and time moves only when a test
// moves the clock and ticks. What each instance says on the bus is recorded, so a test can check
// that a change costs exactly the messages it should, and none after close().
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PresenceBusEvent, PresenceChange, PresenceStatus } from "../src/live/ephemeral.js";
import { InProcessEventBus, type EventBus } from "../src/live/event-bus.js";
import { defaultPresenceTimes, PresenceService } from "../src/live/presence.js";
import { RedisEventBus } from "../src/live/redis-bus.js";
import { ephemeralRecorder, fakeClock, type FakeClock } from "./helpers.js";

const { graceSeconds: GRACE, heartbeatSeconds: HEARTBEAT } = defaultPresenceTimes;

/** alice and bob share "pair"; carol and dave share "others"; "gone" was deleted (no members). */
const conversations = new Map<string, ReadonlySet<string>>([
  ["pair", new Set(["alice", "bob"])],
  ["others", new Set(["carol", "dave"])],
]);
const memberships = new Map<string, string[]>([
  ["alice", ["pair", "gone"]],
  ["bob", ["pair"]],
  ["carol", ["others"]],
  ["dave", ["others"]],
]);

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** Every presence message on `bus`, whoever sent it. */
function busLog(bus: EventBus): PresenceBusEvent[] {
  const seen: PresenceBusEvent[] = [];
  bus.subscribe((event) => {
    if (event.type === "presence") seen.push(event);
  });
  return seen;
}

/** One instance's presence on `bus`: what it tells its users, the lookups it makes and the errors it reports. */
function instance(options: { bus?: EventBus; clock?: FakeClock; lookup?: (userId: string) => Promise<string[]>; reportErrors?: boolean } = {}) {
  const { bus = new InProcessEventBus(), clock = fakeClock(), reportErrors = true } = options;
  const recorder = ephemeralRecorder();
  const lookups: string[] = [];
  const errors: unknown[] = [];
  const presence = new PresenceService({
    bus,
    clock,
    deliver: recorder.deliver,
    membersOf: (conversationId) => Promise.resolve(conversations.get(conversationId) ?? null),
    conversationIdsOf: (userId) => {
      lookups.push(userId);
      return options.lookup ? options.lookup(userId) : Promise.resolve(memberships.get(userId) ?? []);
    },
    times: defaultPresenceTimes,
    onError: reportErrors ? (error) => errors.push(error) : undefined,
  });
  opened.push(presence);
  /** Waits (bounded) until every change has been told. */
  const settled = () => vi.waitFor(() => expect(presence.pendingAnnouncements).toBe(0), { timeout: 2_000, interval: 1 });
  /** What this instance told about `userId`, [recipients, status] per event, once every change was told. */
  const toldAbout = async (userId: string): Promise<[string[], PresenceStatus][]> => {
    await settled();
    return recorder.delivered.flatMap(({ userIds, event }) => (event.type === "presence" && event.userId === userId ? [[userIds, event.status]] : []));
  };
  return { bus, clock, presence, delivered: recorder.delivered, lookups, errors, settled, toldAbout };
}

/** The messages `presence` sent, without its instance id. */
function sentBy(log: PresenceBusEvent[], presence: PresenceService): PresenceChange[] {
  return log.filter((event) => event.instanceId === presence.instanceId).map(({ type: _type, instanceId: _instanceId, ...change }) => change);
}

/** Another instance's message, put on `bus` by hand. */
function fromElsewhere(bus: EventBus, change: PresenceChange, instanceId = "elsewhere"): Promise<void> {
  return bus.publish({ type: "presence", instanceId, ...change });
}

/** Unhandled promise rejections while the test runs. */
function unhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", listener);
  opened.push({ close: () => process.off("unhandledRejection", listener) });
  return seen;
}

/** Lets Node report the rejections left unhandled by what ran so far. */
const afterPendingRejections = () => new Promise((resolve) => setImmediate(resolve));

describe("connections on one instance", () => {
  it("a user with two connections stays online when one closes, and a second tab costs no bus message", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("bob");
    here.presence.connected("alice");
    here.presence.connected("alice");
    here.presence.disconnected("alice");
    here.clock.advanceSeconds(GRACE * 3);
    here.presence.tick();
    expect(here.presence.statusOf("alice")).toBe("online");
    expect(sentBy(log, here.presence).filter((change) => change.kind === "user")).toEqual([
      { kind: "user", userId: "bob", present: true },
      { kind: "user", userId: "alice", present: true },
    ]);
    expect(await here.toldAbout("alice")).toEqual([[["bob"], "online"]]);
  });

  it("a close reported twice does not restart the grace period, and a close without a connection does nothing", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("bob");
    here.presence.connected("alice");
    here.presence.disconnected("alice");
    here.clock.advanceSeconds(GRACE - 1);
    here.presence.disconnected("alice");
    here.presence.disconnected("carol");
    here.clock.advanceSeconds(1);
    here.presence.tick();
    expect([here.presence.statusOf("alice"), here.presence.statusOf("carol")]).toEqual(["offline", "offline"]);
    expect(sentBy(log, here.presence).filter((change) => change.kind === "user")).toEqual([
      { kind: "user", userId: "bob", present: true },
      { kind: "user", userId: "alice", present: true },
      { kind: "user", userId: "alice", present: false },
    ]);
    expect(await here.toldAbout("alice")).toEqual([
      [["bob"], "online"],
      [["bob"], "offline"],
    ]);
  });

  it("an instance's own messages come back to it on the bus and change nothing", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("bob");
    here.presence.connected("alice");
    // Not ticked for longer than the expiry: still, its own users are its own, not an instance that fell silent.
    here.clock.advanceSeconds(defaultPresenceTimes.expirySeconds + 1);
    here.presence.tick();
    expect(sentBy(log, here.presence).map((change) => change.kind)).toEqual(["user", "user", "snapshot"]);
    expect(here.presence.statusOf("alice")).toBe("online");
    expect(await here.toldAbout("alice")).toEqual([[["bob"], "online"]]);
  });
});

describe("statements (away, active)", () => {
  it("saying the current status again, or anything while not connected anywhere, sends nothing", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.say("carol", "away");
    here.presence.connected("bob");
    here.presence.connected("alice");
    here.presence.say("alice", "active");
    here.presence.say("alice", "away");
    here.presence.say("alice", "away");
    expect(here.presence.statusOf("carol")).toBe("offline");
    expect(sentBy(log, here.presence).map((change) => change.kind)).toEqual(["user", "user", "said"]);
    expect(await here.toldAbout("alice")).toEqual([
      [["bob"], "online"],
      [["bob"], "away"],
    ]);
  });

  it("a statement made here later than one from another instance wins, though that one arrives after it", async () => {
    const here = instance();
    here.presence.connected("alice");
    here.clock.advanceSeconds(10);
    here.presence.say("alice", "away");
    // Said elsewhere 5 s before, by the clocks, and carried here late.
    await fromElsewhere(here.bus, { kind: "said", userId: "alice", away: false, at: here.clock.now().getTime() - 5_000 });
    expect(here.presence.statusOf("alice")).toBe("away");
  });

  it("a new statement wins even over one from an instance whose clock is ahead", async () => {
    const bus = new InProcessEventBus();
    const behind = instance({ bus });
    const ahead = instance({ bus, clock: fakeClock(new Date("2030-01-01T00:00:05.000Z")) });
    behind.presence.connected("alice");
    ahead.presence.say("alice", "away");
    expect([behind.presence.statusOf("alice"), ahead.presence.statusOf("alice")]).toEqual(["away", "away"]);
    behind.presence.say("alice", "active");
    expect([behind.presence.statusOf("alice"), ahead.presence.statusOf("alice")]).toEqual(["online", "online"]);
  });

  it("of two statements with the same time, the one the bus carried last wins", async () => {
    const here = instance();
    here.presence.connected("alice");
    await fromElsewhere(here.bus, { kind: "said", userId: "alice", away: true, at: 1_000 }, "one");
    await fromElsewhere(here.bus, { kind: "said", userId: "alice", away: false, at: 1_000 }, "two");
    expect(here.presence.statusOf("alice")).toBe("online");
  });

  it("changes made while one is being told are folded: a status undone meanwhile is not told at all", async () => {
    const here = instance();
    here.presence.connected("bob");
    here.presence.connected("alice");
    await here.settled();
    here.presence.say("alice", "away");
    here.presence.say("alice", "active");
    here.presence.say("alice", "away");
    expect(await here.toldAbout("alice")).toEqual([
      [["bob"], "online"],
      [["bob"], "away"],
    ]);
  });
});

describe("who is told", () => {
  it("a change with nobody else connected here costs no lookup", async () => {
    const here = instance();
    here.presence.connected("alice");
    here.presence.say("alice", "away");
    await here.settled();
    expect(here.lookups).toEqual([]);
    here.presence.connected("bob");
    await here.settled();
    expect(here.lookups).toEqual(["bob"]);
  });

  it("no presence event is delivered when nobody connected here shares a conversation", async () => {
    const here = instance();
    here.presence.connected("carol");
    here.presence.connected("alice");
    here.presence.say("alice", "away");
    await here.settled();
    expect(here.lookups).toEqual(["alice", "alice"]);
    expect(here.delivered).toEqual([]);
  });

  it("a failed lookup reaches onError, and the next change is told again", async () => {
    const failure = new Error("lookup failed");
    let failing = true;
    const here = instance({ lookup: (userId) => (failing ? Promise.reject(failure) : Promise.resolve(memberships.get(userId) ?? [])) });
    here.presence.connected("bob");
    here.presence.connected("alice");
    await here.settled();
    expect(here.errors).toEqual([failure]);
    failing = false;
    here.presence.say("alice", "away");
    expect(await here.toldAbout("alice")).toEqual([[["bob"], "away"]]);
  });
});

describe("heartbeats and other instances", () => {
  it("the heartbeat goes out at the first tick, then exactly every interval, not before; it lists this instance's users and their statements", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("alice");
    here.presence.connected("bob");
    here.presence.say("alice", "away");
    const heartbeats = () => sentBy(log, here.presence).filter((change) => change.kind === "snapshot");
    here.presence.tick();
    const start = here.clock.now().getTime();
    expect(heartbeats()).toEqual([{ kind: "snapshot", users: ["alice", "bob"], statements: [{ userId: "alice", away: true, at: start }] }]);
    here.clock.advanceSeconds(HEARTBEAT - 1);
    here.presence.tick();
    expect(heartbeats()).toHaveLength(1);
    here.clock.advanceSeconds(1);
    here.presence.tick();
    expect(heartbeats()).toHaveLength(2);
  });

  it("a resync (the bus may have lost messages) sends this instance's snapshot again at once", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("alice");
    here.presence.tick();
    await here.bus.publish({ type: "resync" });
    expect(sentBy(log, here.presence).filter((change) => change.kind === "snapshot")).toEqual([
      { kind: "snapshot", users: ["alice"], statements: [] },
      { kind: "snapshot", users: ["alice"], statements: [] },
    ]);
  });

  it("a user connected to two instances stays online on the first while the second lets them go", async () => {
    const bus = new InProcessEventBus();
    const clock = fakeClock();
    const [first, second] = [instance({ bus, clock }), instance({ bus, clock })];
    first.presence.connected("bob");
    first.presence.connected("alice");
    second.presence.connected("alice");
    second.presence.disconnected("alice");
    clock.advanceSeconds(GRACE);
    second.presence.tick();
    expect([first.presence.statusOf("alice"), second.presence.statusOf("alice")]).toEqual(["online", "online"]);
    expect(await first.toldAbout("alice")).toEqual([[["bob"], "online"]]);
  });

  it("a deactivated user is offline everywhere at once - no grace period - and comes back with a new connection after a reactivation", async () => {
    const bus = new InProcessEventBus();
    const clock = fakeClock();
    const [first, second] = [instance({ bus, clock }), instance({ bus, clock })];
    const log = busLog(bus);
    first.presence.connected("bob");
    // Alice: two tabs on the first instance, one on the second, one more there just closed (in its grace period).
    first.presence.connected("alice");
    first.presence.connected("alice");
    second.presence.connected("alice");
    second.presence.connected("alice");
    second.presence.disconnected("alice");
    first.presence.say("alice", "away");
    expect(await first.toldAbout("alice")).toEqual([
      [["bob"], "online"],
      [["bob"], "away"],
    ]);
    await bus.publish({ type: "user-deactivated", userId: "alice", sessionIds: ["s1"], expiresAt: clock.now().getTime() + 900_000 });
    expect([first.presence.statusOf("alice"), second.presence.statusOf("alice")]).toEqual(["offline", "offline"]);
    expect(await first.toldAbout("alice")).toEqual([
      [["bob"], "online"],
      [["bob"], "away"],
      [["bob"], "offline"],
    ]);
    // Each instance let go of its own hold, once; her sockets closing afterwards change nothing.
    const goodbyes = (presence: PresenceService) => sentBy(log, presence).filter((change) => change.kind === "user" && change.userId === "alice" && !change.present);
    expect([goodbyes(first.presence).length, goodbyes(second.presence).length]).toEqual([1, 1]);
    first.presence.disconnected("alice");
    first.presence.disconnected("alice");
    second.presence.disconnected("alice");
    clock.advanceSeconds(GRACE);
    first.presence.tick();
    second.presence.tick();
    expect([goodbyes(first.presence).length, goodbyes(second.presence).length]).toEqual([1, 1]);
    // Bob was never deactivated; a user no instance holds is not touched.
    await bus.publish({ type: "user-deactivated", userId: "carol", sessionIds: [], expiresAt: clock.now().getTime() });
    expect(first.presence.statusOf("bob")).toBe("online");
    expect(sentBy(log, first.presence).filter((change) => change.kind === "user" && change.userId === "carol")).toEqual([]);
    // Reactivated and logged in again: online, not away (her old statement went with her).
    second.presence.connected("alice");
    expect(first.presence.statusOf("alice")).toBe("online");
    expect((await first.toldAbout("alice")).at(-1)).toEqual([["bob"], "online"]);
  });

  it("a heartbeat that brings a user online together with their statement tells contacts they are online", async () => {
    const here = instance();
    here.presence.connected("bob");
    await fromElsewhere(here.bus, { kind: "snapshot", users: ["alice"], statements: [{ userId: "alice", away: false, at: 1_000 }] });
    expect(await here.toldAbout("alice")).toEqual([[["bob"], "online"]]);
  });

  it("another instance letting go of a user this one never knew of changes nothing", async () => {
    const here = instance();
    here.presence.connected("bob");
    await fromElsewhere(here.bus, { kind: "user", userId: "alice", present: false });
    expect(here.presence.statusOf("alice")).toBe("offline");
    expect(await here.toldAbout("alice")).toEqual([]);
  });

  it("a goodbye from an instance never heard from gets no answer", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("alice");
    await fromElsewhere(here.bus, { kind: "stopped" });
    expect(sentBy(log, here.presence).map((change) => change.kind)).toEqual(["user"]);
    // An instance heard from for the first time otherwise gets the snapshot at once.
    await fromElsewhere(here.bus, { kind: "user", userId: "dave", present: true });
    expect(sentBy(log, here.presence).map((change) => change.kind)).toEqual(["user", "snapshot"]);
  });
});

describe("close()", () => {
  it("says goodbye once; after it nothing more is published or told", async () => {
    const here = instance();
    const log = busLog(here.bus);
    here.presence.connected("bob");
    await here.settled();
    here.presence.close();
    here.presence.close();
    here.presence.connected("alice");
    here.presence.say("bob", "away");
    here.clock.advanceSeconds(HEARTBEAT);
    here.presence.tick();
    await fromElsewhere(here.bus, { kind: "snapshot", users: ["alice"], statements: [] });
    await here.bus.publish({ type: "resync" });
    expect(sentBy(log, here.presence).map((change) => change.kind)).toEqual(["user", "stopped"]);
    expect([here.presence.statusOf("alice"), here.presence.statusOf("bob")]).toEqual(["offline", "online"]);
    expect(here.delivered).toEqual([]);
  });
});

describe("a bus that cannot publish", () => {
  /** A Redis bus that cannot reach Redis, and the publishes it was asked for. */
  function unreachableBus() {
    const bus = new RedisEventBus("redis://127.0.0.1:1", { channel: "parley:test:unreachable" });
    opened.push(bus);
    const attempts: Promise<void>[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = (event) => {
      const attempt = publish(event);
      attempts.push(attempt);
      return attempt;
    };
    return { bus, settled: () => Promise.allSettled(attempts) };
  }

  it("reports each failed publish to onError; the state here still changes", async () => {
    const { bus, settled } = unreachableBus();
    const here = instance({ bus });
    here.presence.connected("alice");
    here.presence.say("alice", "away");
    await settled();
    expect(here.errors).toHaveLength(2);
    expect(String(here.errors[0])).toMatch(/enableOfflineQueue/);
    expect(here.presence.statusOf("alice")).toBe("away");
  });

  it("without onError, failed publishes and lookups are dropped quietly", async () => {
    const rejections = unhandledRejections();
    const { bus, settled } = unreachableBus();
    const here = instance({ bus, reportErrors: false, lookup: () => Promise.reject(new Error("lookup failed")) });
    here.presence.connected("bob");
    here.presence.connected("alice");
    await settled();
    await here.settled();
    await afterPendingRejections();
    expect(rejections).toEqual([]);
  });
});

// What the API reports through its Metrics interface: database time per store operation, refusals
// per limit, batch sizes, and the commit time each live event carries to its subscription.
import { afterEach, describe, expect, it } from "vitest";
import { countingRefusals, MemoryLimiterStore } from "../src/auth/rate-limit.js";
import { systemClock } from "../src/clock.js";
import { createServices } from "../src/context.js";
import { logIn } from "../src/domain/accounts.js";
import { GroupCommit } from "../src/domain/group-commit.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { LiveHub, type FeedLog } from "../src/live/live-hub.js";
import { noMetrics, type Metrics, type RateLimitKind, type WriterName } from "../src/metrics.js";
import { DATABASE_OPERATIONS, timedDatabase } from "../src/timed-database.js";
import { messageEntry, suiteDatabase, testConfig } from "./helpers.js";

/** Records every call, by what it was about. */
function recorder() {
  const database = new Map<string, number[]>();
  const batches = new Map<WriterName, number[]>();
  const refused: RateLimitKind[] = [];
  const metrics: Metrics = {
    ...noMetrics,
    databaseTimer: (operation) => {
      const seconds: number[] = [];
      database.set(operation, seconds);
      return (value) => seconds.push(value);
    },
    batchSizes: (writer) => {
      const sizes: number[] = [];
      batches.set(writer, sizes);
      return (size) => sizes.push(size);
    },
    rateLimited: (kind) => refused.push(kind),
  };
  return { metrics, database, batches, refused };
}

const suite = suiteDatabase();

it("times each store call under its operation's name, passing results and failures through", async () => {
  const { metrics, database } = recorder();
  const db = timedDatabase(suite.database.db, metrics);
  expect([...database.keys()].sort()).toEqual([...DATABASE_OPERATIONS].sort());
  expect(DATABASE_OPERATIONS).toContain("messages.insert");
  expect(DATABASE_OPERATIONS).toContain("events.inEventOrder");

  expect(await db.messages.latestId()).toBe(await suite.database.db.messages.latestId());
  await db.events.floor();
  await expect(db.events.inEventOrder(() => Promise.reject(new Error("rolled back")))).rejects.toThrow("rolled back");
  expect(database.get("messages.latestId")).toHaveLength(1);
  expect(database.get("events.floor")).toHaveLength(1);
  expect(database.get("events.inEventOrder")).toHaveLength(1);
  expect(database.get("messages.insert")).toEqual([]);
  for (const seconds of [...database.values()].flat()) expect(seconds).toBeGreaterThanOrEqual(0);
  // The rest of the database is the same.
  expect(db.prisma).toBe(suite.database.db.prisma);
});

it("counts a limiter's refusals, not the calls it lets through", async () => {
  let refusals = 0;
  const limiter = countingRefusals(new MemoryLimiterStore(systemClock).limiter("test", { max: 2, windowSeconds: 60 }), () => (refusals += 1));
  expect(await limiter.take("alice")).toBe(0);
  expect(await limiter.take("alice")).toBe(0);
  expect(await limiter.take("alice")).toBeGreaterThan(0);
  expect(await limiter.take("bob")).toBe(0);
  expect(refusals).toBe(1);
  await limiter.refund("alice");
  expect(await limiter.take("alice")).toBe(0);
  expect(refusals).toBe(1);
});

it("the services count refusals under each limit's name, and failed-login lockouts under the lock that refused", async () => {
  const { metrics, refused } = recorder();
  const services = await createServices({
    db: suite.database.db,
    bus: new InProcessEventBus(),
    config: testConfig({
      limits: { ...testConfig().limits, searchesPerUser: { max: 1, windowSeconds: 60 }, loginFailuresPerAccountAndAddress: { max: 1, windowSeconds: 60 } },
    }),
    metrics,
  });
  suite.opened.push(services);
  expect(await services.searchesByUser.take("alice")).toBe(0);
  expect(await services.searchesByUser.take("alice")).toBeGreaterThan(0);
  expect(refused).toEqual(["searches-user"]);
  // One failure locks this address out of this account; the next attempt is refused before any hashing.
  await expect(logIn(services, { username: "nobody", password: "wrong password" }, "192.0.2.1")).rejects.toThrow();
  expect(refused).toEqual(["searches-user"]);
  await expect(logIn(services, { username: "nobody", password: "wrong password" }, "192.0.2.1")).rejects.toThrow(/Too many failed logins/);
  expect(refused).toEqual(["searches-user", "login-failures-account-address"]);
});

it.each([
  ["login-failures-address", { loginFailuresPerAddress: { max: 1, windowSeconds: 60 } }, ["first", "192.0.2.1"], ["second", "192.0.2.1"]],
  ["login-failures-account", { loginFailuresPerAccount: { max: 1, windowSeconds: 60 } }, ["shared", "192.0.2.1"], ["shared", "192.0.2.2"]],
] as const)("a login refused by %s is counted under it", async (kind, limits, [firstName, firstAddress], [secondName, secondAddress]) => {
  const { metrics, refused } = recorder();
  const services = await createServices({ db: suite.database.db, bus: new InProcessEventBus(), config: testConfig({ limits: { ...testConfig().limits, ...limits } }), metrics });
  suite.opened.push(services);
  await expect(logIn(services, { username: firstName, password: "wrong password" }, firstAddress)).rejects.toThrow();
  await expect(logIn(services, { username: secondName, password: "wrong password" }, secondAddress)).rejects.toThrow(/Too many failed logins/);
  expect(refused).toEqual([kind]);
});

it("tells each batch's size before storing it", async () => {
  const sizes: number[] = [];
  const commits = new GroupCommit<number, number>(async (batch) => batch.map((n) => n), 2, 0, (size) => sizes.push(size));
  await Promise.all([1, 2, 3, 4, 5].map((n) => commits.submit(n)));
  expect(sizes).toEqual([2, 2, 1]);
});

describe("the live hub", () => {
  const noLog: FeedLog = { latestId: () => Promise.resolve(0n), after: (afterId) => Promise.resolve({ entries: [], lastId: afterId, rows: 0 }) };
  let hub: LiveHub | null = null;
  afterEach(() => hub?.close());

  it("hands each event's commit time to the subscriptions' queues; without one, the time it arrived", async () => {
    const bus = new InProcessEventBus();
    hub = new LiveHub(bus, noLog);
    const queue = hub.open("alice");
    await bus.publish({ type: "entry", entry: messageEntry(1), recipientIds: ["alice"], prevId: "0", committedAt: 1_000 });
    const before = Date.now();
    await bus.publish({ type: "entry", entry: messageEntry(2), recipientIds: ["alice"], prevId: "1" });
    const taken = await queue.take();
    expect(taken.map((item) => (item.kind === "ephemeral" ? null : item.id))).toEqual(["1", "2"]);
    expect(queue.takenCommittedAt[0]).toBe(1_000);
    expect(queue.takenCommittedAt[1]).toBeGreaterThanOrEqual(before);
  });

  it("an event read from the log after the bus lost it carries its row's commit time", async () => {
    const bus = new InProcessEventBus();
    const log: FeedLog = {
      latestId: () => Promise.resolve(0n),
      after: (afterId) =>
        Promise.resolve(afterId === 0n ? { entries: [{ entry: messageEntry(1), recipientIds: ["alice"], committedAt: 5_000 }], lastId: 1n, rows: 1 } : { entries: [], lastId: afterId, rows: 0 }),
    };
    hub = new LiveHub(bus, log);
    const queue = hub.open("alice");
    await hub.catchUp();
    expect((await queue.take()).length).toBe(1);
    expect(queue.takenCommittedAt).toEqual([5_000]);
  });
});

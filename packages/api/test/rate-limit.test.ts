import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryLimiterStore, RedisLimiterStore, WindowCounter, type Limiter, type LimiterStore } from "../src/auth/rate-limit.js";
import { systemClock } from "../src/clock.js";
import { fakeClock, type FakeClock } from "./helpers.js";
import { tcpProxy, type Proxy } from "./tcp-proxy.js";

const LIMIT = { max: 3, windowSeconds: 60 };

let clock: FakeClock;
let counter: WindowCounter;

beforeEach(() => {
  clock = fakeClock();
  counter = new WindowCounter(LIMIT, clock);
});

function takeTimes(key: string, times: number): number[] {
  return Array.from({ length: times }, () => counter.take(key));
}

describe("WindowCounter", () => {
  it("allows max events in a window", () => {
    expect(takeTimes("alice", LIMIT.max)).toEqual([0, 0, 0]);
  });

  it("refuses the event after max with the seconds until the window resets", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(20);
    expect(counter.take("alice")).toBe(40);
  });

  it("reports at least one second to wait in the window's last fraction of a second", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(59.5);
    expect(counter.retryAfter("alice")).toBe(1);
  });

  it("allows events again once the window has passed", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(LIMIT.windowSeconds);
    expect(counter.take("alice")).toBe(0);
  });

  it("starts a new window at the first event after one has passed, and counts from there", () => {
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(LIMIT.windowSeconds + 30);
    expect(takeTimes("alice", LIMIT.max)).toEqual([0, 0, 0]);
    clock.advanceSeconds(10);
    expect(counter.take("alice")).toBe(LIMIT.windowSeconds - 10);
  });

  it("refund() gives back an event that take() counted", () => {
    takeTimes("alice", LIMIT.max);
    counter.refund("alice");
    expect(takeTimes("alice", 2)).toEqual([0, 60]);
  });

  it("refund() never takes a key below zero events", () => {
    counter.take("alice");
    counter.refund("alice", 5);
    expect(takeTimes("alice", LIMIT.max + 1)).toEqual([0, 0, 0, 60]);
  });

  it("refund() of a key with nothing counted counts nothing", () => {
    counter.refund("alice");
    expect(takeTimes("alice", LIMIT.max + 1)).toEqual([0, 0, 0, 60]);
  });

  it("retryAfter alone does not count as an event", () => {
    for (let i = 0; i < 10; i += 1) counter.retryAfter("alice");
    expect(takeTimes("alice", LIMIT.max)).toEqual([0, 0, 0]);
  });

  it("clear() resets a key", () => {
    takeTimes("alice", LIMIT.max);
    counter.clear("alice");
    expect(counter.take("alice")).toBe(0);
  });

  it("keeps keys independent", () => {
    takeTimes("alice", LIMIT.max);
    expect(counter.take("bob")).toBe(0);
  });
});

describe("WindowCounter's sweep of ended windows", () => {
  // A sweep runs at the first event at least one window length after the previous sweep; these
  // tests place windows before, across and after a sweep on purpose.

  it("forgets a window that has ended, so memory holds only open windows", () => {
    counter.record("a");
    clock.advanceSeconds(LIMIT.windowSeconds);
    counter.record("b");
    expect(counter.size).toBe(1);
  });

  it("keeps a window that is still open at a sweep", () => {
    counter.record("bob");
    clock.advanceSeconds(30);
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(30);
    counter.record("carol");
    expect([counter.size, counter.take("alice")]).toEqual([2, 30]);
  });

  it("restarts a window that ended between two sweeps at its key's next event", () => {
    counter.record("bob");
    clock.advanceSeconds(30);
    takeTimes("alice", LIMIT.max);
    clock.advanceSeconds(30);
    counter.record("carol");
    // Alice's window ends exactly now, 30 s after the last sweep: no sweep has forgotten it.
    clock.advanceSeconds(30);
    expect(takeTimes("alice", LIMIT.max + 1)).toEqual([0, 0, 0, LIMIT.windowSeconds]);
  });
});

describe("WindowCounter with maxKeys", () => {
  it("forgets the oldest key beyond maxKeys instead of growing", () => {
    const bounded = new WindowCounter({ max: 1, windowSeconds: 3600 }, clock, 2);
    for (const key of ["a", "b", "c"]) bounded.record(key);
    expect([bounded.retryAfter("a"), bounded.retryAfter("b") > 0, bounded.retryAfter("c") > 0]).toEqual([0, true, true]);
  });
});

describe("MemoryLimiterStore", () => {
  it("is ready at once", async () => {
    const store: LimiterStore = new MemoryLimiterStore(systemClock);
    await expect(store.ready(0)).resolves.toBeUndefined();
  });
});

describe("RedisLimiterStore while Redis cannot be reached", () => {
  // Nothing listens on port 1: every command fails at once, as while Redis is down.
  let store: RedisLimiterStore;
  let errors: unknown[];
  beforeEach(() => {
    errors = [];
    store = new RedisLimiterStore({ url: "redis://127.0.0.1:1", keyPrefix: `parley:test:${randomUUID()}`, onError: (error) => errors.push(error) });
    return () => store.close();
  });

  it("ready() gives up after its timeout with an error that says so", async () => {
    await expect(store.ready(100)).rejects.toThrow(/not become ready/);
    expect(errors.length).toBeGreaterThan(0);
  });

  it("needs no onError: a failing connection is not an uncaught error", async () => {
    const quiet = new RedisLimiterStore({ url: "redis://127.0.0.1:1", keyPrefix: `parley:test:${randomUUID()}` });
    try {
      await expect(quiet.ready(100)).rejects.toThrow(/not become ready/);
      expect(await quiet.limiter("quiet", LIMIT).take("k")).toBe(0);
    } finally {
      quiet.close();
    }
  });

  it("limits each instance from memory instead of refusing everything", async () => {
    await store.ready(100).catch(() => undefined);
    const limiter = store.limiter("down", LIMIT);
    expect([await limiter.take("k"), await limiter.take("k"), await limiter.take("k")]).toEqual([0, 0, 0]);
    expect(await limiter.take("k")).toBeGreaterThan(0);
    expect(await limiter.take("other")).toBe(0);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.warn("TEST_REDIS_URL is not set: the Limiter tests through Redis are skipped");
const stores: [string, () => LimiterStore][] = [["in memory", () => new MemoryLimiterStore(systemClock)]];
if (redisUrl) stores.push(["through Redis", () => new RedisLimiterStore({ url: redisUrl, keyPrefix: `parley:test:${randomUUID()}` })]);

describe.each(stores)("Limiter %s", (_, makeStore) => {
  let store: LimiterStore;
  let limiter: Limiter;
  beforeEach(async () => {
    store = makeStore();
    await store.ready(5_000);
    limiter = store.limiter("test", LIMIT);
    return () => store.close();
  });

  it("take() allows max events, then answers the seconds until the window resets", async () => {
    expect([await limiter.take("k"), await limiter.take("k"), await limiter.take("k")]).toEqual([0, 0, 0]);
    const wait = await limiter.take("k");
    expect(wait).toBeGreaterThan(55);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it("record() counts toward retryAfter(), which counts nothing itself", async () => {
    for (let i = 0; i < 5; i += 1) expect(await limiter.retryAfter("k")).toBe(0);
    for (let i = 0; i < LIMIT.max; i += 1) await limiter.record("k");
    expect(await limiter.retryAfter("k")).toBeGreaterThan(0);
    expect(await limiter.retryAfter("other")).toBe(0);
  });

  it("retryAfter() is 0 while the key is under its limit", async () => {
    for (let i = 0; i < LIMIT.max - 1; i += 1) await limiter.record("k");
    expect(await limiter.retryAfter("k")).toBe(0);
  });

  it("a refused take() counts nothing, so a refund() after it frees one event", async () => {
    for (let i = 0; i < LIMIT.max; i += 1) await limiter.take("k");
    expect(await limiter.take("k")).toBeGreaterThan(0);
    await limiter.refund("k");
    expect(await limiter.take("k")).toBe(0);
    expect(await limiter.take("k")).toBeGreaterThan(0);
  });

  it("refund() gives one event back and clear() resets the key", async () => {
    for (let i = 0; i < LIMIT.max; i += 1) await limiter.take("k");
    await limiter.refund("k");
    expect(await limiter.take("k")).toBe(0);
    await limiter.clear("k");
    expect(await limiter.retryAfter("k")).toBe(0);
  });

  it("limiters of different names count apart", async () => {
    for (let i = 0; i < LIMIT.max; i += 1) await limiter.take("k");
    expect(await store.limiter("another", LIMIT).take("k")).toBe(0);
  });
});

describe.each(stores)("Limiter %s, weighted", (_, makeStore) => {
  let limiter: Limiter;
  beforeEach(async () => {
    const store = makeStore();
    await store.ready(5_000);
    limiter = store.limiter("weighted", { max: 10, windowSeconds: 60 });
    return () => store.close();
  });

  it("take(key, n) counts n events at once when they fit", async () => {
    expect(await limiter.take("k", 7)).toBe(0);
    expect(await limiter.take("k", 3)).toBe(0);
    expect(await limiter.take("k")).toBeGreaterThan(0);
  });

  it("a refused take(key, n) counts nothing, so smaller takes that fit still pass", async () => {
    expect(await limiter.take("k", 6)).toBe(0);
    expect(await limiter.take("k", 5)).toBeGreaterThan(0);
    expect(await limiter.take("k", 4)).toBe(0);
  });

  it("refund(key, n) gives n events back", async () => {
    expect(await limiter.take("k", 10)).toBe(0);
    await limiter.refund("k", 4);
    expect(await limiter.take("k", 4)).toBe(0);
    expect(await limiter.take("k")).toBeGreaterThan(0);
  });
});

describe.runIf(redisUrl)("RedisLimiterStore's connection", () => {
  const url = new URL(redisUrl ?? "redis://127.0.0.1:6379");
  const keyPrefix = `parley:test:${randomUUID()}`;
  let link: Proxy;
  let store: RedisLimiterStore;
  let readies: number;
  let errors: unknown[];
  beforeEach(async () => {
    link = await tcpProxy(Number(url.port || 6379));
    readies = 0;
    errors = [];
    const linked = new URL(url);
    linked.hostname = "127.0.0.1";
    linked.port = String(link.port);
    store = new RedisLimiterStore({
      url: linked.toString(),
      keyPrefix,
      onReady: () => (readies += 1),
      onError: (error) => errors.push(error),
    });
    await store.ready(5_000);
    return async () => {
      store.close();
      await link.close();
    };
  });

  it("tells onReady, and ready() answers at once while connected", async () => {
    await expect(store.ready(0)).resolves.toBeUndefined();
    expect(readies).toBe(1);
  });

  /** What another instance, straight on Redis, sees of `key` in the limiter `name`. */
  async function retryAfterSeenFromRedis(name: string, key: string): Promise<number> {
    const direct = new RedisLimiterStore({ url: url.toString(), keyPrefix });
    try {
      await direct.ready(5_000);
      return await direct.limiter(name, LIMIT).retryAfter(key);
    } finally {
      direct.close();
    }
  }

  it("reconnects after the link drops, and counts through Redis again", async () => {
    const limiter = store.limiter("link", LIMIT);
    await link.cut();
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 });
    await link.restore();
    await vi.waitFor(() => expect(readies).toBe(2), { timeout: 5_000 });
    for (let i = 0; i < LIMIT.max; i += 1) await limiter.take("k");
    expect(await retryAfterSeenFromRedis("link", "k")).toBeGreaterThan(0);
  });

  it("close() lets go of Redis: what is counted after it stays in this instance", async () => {
    const limiter = store.limiter("closed", LIMIT);
    store.close();
    for (let i = 0; i < LIMIT.max; i += 1) await limiter.take("k");
    expect(await limiter.take("k")).toBeGreaterThan(0);
    expect(await retryAfterSeenFromRedis("closed", "k")).toBe(0);
  });
});

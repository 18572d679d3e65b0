// The Redis event bus between instances: events cross, a subscriber hears "resync" when it may have
// missed some (at its first subscription and after a drop), the bus is up and ready only while both
// of its connections are, and junk on the channel is reported, not delivered. Needs TEST_REDIS_URL,
// except the unreachable case.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ParleyEvent } from "../src/live/event-bus.js";
import { RedisEventBus } from "../src/live/redis-bus.js";
import { messageEntry } from "./helpers.js";

const buses: RedisEventBus[] = [];

afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

function busOn(url: string, channel: string, errors: unknown[] = []): RedisEventBus {
  const bus = new RedisEventBus(url, { channel, onError: (error) => errors.push(error) });
  buses.push(bus);
  return bus;
}

/** Waits (bounded) until `events` holds `count` events. */
async function received(events: ParleyEvent[], count: number): Promise<ParleyEvent[]> {
  for (let i = 0; i < 200 && events.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return events;
}

describe("RedisEventBus while Redis cannot be reached", () => {
  it("fails a publish at once, reports itself down, and is not ready", async () => {
    const errors: unknown[] = [];
    const bus = busOn("redis://127.0.0.1:1", "parley:test:down", errors);
    // ioredis's words for "refused rather than queued until a reconnect".
    await expect(bus.publish({ type: "resync" })).rejects.toThrow(/enableOfflineQueue options is false/);
    expect(bus.status()).toEqual({ name: "redis", up: false });
    await expect(bus.ready(100)).rejects.toThrow(/not reachable/);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.warn("TEST_REDIS_URL is not set: the RedisEventBus tests through Redis are skipped");

describe.runIf(redisUrl)("RedisEventBus through Redis", () => {
  const url = redisUrl ?? "";

  it("carries events between instances on one channel, and tells a new subscriber to resync", async () => {
    const channel = `parley:test:${randomUUID()}`;
    const sender = busOn(url, channel);
    const receiver = busOn(url, channel);
    const events: ParleyEvent[] = [];
    receiver.subscribe((event) => events.push(event));
    await Promise.all([sender.ready(), receiver.ready()]);
    expect(receiver.status()).toEqual({ name: "redis", up: true });
    const event: ParleyEvent = { type: "entry", entry: messageEntry(7), recipientIds: ["alice"], prevId: "6" };
    await sender.publish(event);
    expect(await received(events, 2)).toEqual([{ type: "resync" }, event]);
  });

  it("does not deliver to a listener that unsubscribed, nor events of another channel", async () => {
    const channel = `parley:test:${randomUUID()}`;
    const bus = busOn(url, channel);
    const other = busOn(url, `${channel}:other`);
    const kept: ParleyEvent[] = [];
    const dropped: ParleyEvent[] = [];
    bus.subscribe((event) => kept.push(event));
    const unsubscribe = bus.subscribe((event) => dropped.push(event));
    await Promise.all([bus.ready(), other.ready()]);
    unsubscribe();
    await other.publish({ type: "session-revoked", sessionId: "elsewhere", expiresAt: 1 });
    await bus.publish({ type: "session-revoked", sessionId: "here", expiresAt: 1 });
    expect(await received(kept, 2)).toEqual([{ type: "resync" }, { type: "session-revoked", sessionId: "here", expiresAt: 1 }]);
    expect(dropped.filter((e) => e.type !== "resync")).toEqual([]);
  });

  it("reports a message that is not JSON and delivers the ones after it", async () => {
    const channel = `parley:test:${randomUUID()}`;
    const errors: unknown[] = [];
    const bus = busOn(url, channel, errors);
    const events: ParleyEvent[] = [];
    bus.subscribe((event) => events.push(event));
    await bus.ready();
    const raw = new Redis(url);
    try {
      await raw.publish(channel, "{not json");
      await bus.publish({ type: "resync" });
    } finally {
      raw.disconnect();
    }
    expect(await received(events, 2)).toEqual([{ type: "resync" }, { type: "resync" }]);
    expect(errors).toHaveLength(1);
  });

  it("listens on parley:events when no channel is given", async () => {
    const bus = new RedisEventBus(url);
    buses.push(bus);
    const events: ParleyEvent[] = [];
    bus.subscribe((event) => events.push(event));
    await bus.ready();
    // Other Parley instances on this Redis may hear it too: a session no one has, long expired.
    const event: ParleyEvent = { type: "session-revoked", sessionId: randomUUID(), expiresAt: 1 };
    const raw = new Redis(url);
    try {
      await raw.publish("parley:events", JSON.stringify(event));
    } finally {
      raw.disconnect();
    }
    await vi.waitFor(() => expect(events).toContainEqual(event));
  });
});

describe.runIf(redisUrl)("RedisEventBus when one of its connections fails", () => {
  // Each test connects as a Redis user of its own, so that it can take that user's rights away and
  // drop its connections (CLIENT KILL) without touching any other client of this Redis.
  const url = redisUrl ?? "";
  let admin: Redis;
  let user: string;
  beforeEach(() => {
    admin = new Redis(url);
    user = `parley-test-${randomUUID()}`;
    return async () => {
      await admin.acl("DELUSER", user);
      admin.disconnect();
    };
  });

  /** A bus connected as the test's user, with every right but those `rules` take away. */
  async function busAs(rules: string[], errors: unknown[] = []): Promise<{ bus: RedisEventBus; channel: string }> {
    await admin.acl("SETUSER", user, "reset", "on", ">secret", "~*", "&*", "+@all", ...rules);
    const asUser = new URL(url);
    asUser.username = user;
    asUser.password = "secret";
    const channel = `parley:test:${randomUUID()}`;
    return { bus: busOn(asUser.toString(), channel, errors), channel };
  }

  /** The id of each open connection of the test's user, by connection name. */
  async function connectionsOfUser(): Promise<Map<string, string>> {
    const list = (await admin.client("LIST")) as string;
    const connections = new Map<string, string>();
    for (const line of list.split("\n")) {
      const fields = new Map(line.split(" ").map((field) => field.split("=", 2) as [string, string]));
      if (fields.get("user") === user) connections.set(fields.get("name") ?? "", fields.get("id") ?? "");
    }
    return connections;
  }

  /** Locks the user out and drops its connection named `name`: that connection cannot come back. */
  async function cutOff(name: string): Promise<void> {
    const id = (await connectionsOfUser()).get(name);
    if (!id) throw new Error(`the user has no connection named ${name}`);
    await admin.acl("SETUSER", user, "off");
    await admin.client("KILL", "ID", id);
  }

  it("is neither up nor ready while its subscription is refused, and says why", async () => {
    const errors: unknown[] = [];
    const { bus } = await busAs(["-subscribe"], errors);
    await vi.waitFor(() => bus.publish({ type: "resync" }), { timeout: 5_000 });
    await vi.waitFor(() => expect(String(errors[0])).toMatch(/NOPERM/), { timeout: 5_000 });
    expect(bus.status()).toEqual({ name: "redis", up: false });
    await expect(bus.ready(50)).rejects.toThrow(/not reachable/);
  });

  it("is down and not ready while its publisher cannot reconnect, says why, and recovers", async () => {
    const errors: unknown[] = [];
    const { bus } = await busAs([], errors);
    await bus.ready();
    await cutOff("parley-publisher");
    await vi.waitFor(() => expect(errors).not.toHaveLength(0), { timeout: 5_000 });
    expect(bus.status()).toEqual({ name: "redis", up: false });
    await expect(bus.ready(50)).rejects.toThrow(/not reachable/);
    await admin.acl("SETUSER", user, "on");
    await bus.ready(5_000);
    expect(bus.status()).toEqual({ name: "redis", up: true });
  });

  it("is down while its subscriber cannot reconnect, and tells its listeners to resync when it is back", async () => {
    const errors: unknown[] = [];
    const { bus, channel } = await busAs([], errors);
    const events: ParleyEvent[] = [];
    bus.subscribe((event) => events.push(event));
    await bus.ready();
    await cutOff("parley-subscriber");
    await vi.waitFor(() => expect(errors).not.toHaveLength(0), { timeout: 5_000 });
    expect(bus.status()).toEqual({ name: "redis", up: false });
    await admin.acl("SETUSER", user, "on");
    await bus.ready(5_000);
    const after: ParleyEvent = { type: "session-revoked", sessionId: "after", expiresAt: 1 };
    await admin.publish(channel, JSON.stringify(after));
    await vi.waitFor(() => expect(events).toEqual([{ type: "resync" }, { type: "resync" }, after]));
  });

  it("close() stops delivering, reports down, and lets go of both connections", async () => {
    const { bus, channel } = await busAs([]);
    const events: ParleyEvent[] = [];
    bus.subscribe((event) => events.push(event));
    await bus.ready();
    expect([...(await connectionsOfUser()).keys()].sort()).toEqual(["parley-publisher", "parley-subscriber"]);
    await bus.close();
    expect(bus.status()).toEqual({ name: "redis", up: false });
    await admin.publish(channel, JSON.stringify({ type: "resync" }));
    await vi.waitFor(async () => expect((await connectionsOfUser()).size).toBe(0));
    expect(events).toEqual([{ type: "resync" }]);
  });
});

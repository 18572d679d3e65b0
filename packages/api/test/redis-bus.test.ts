// The Redis event bus between instances: events cross, a subscriber hears "resync" when it may have
// missed some, and junk on the channel is reported, not delivered. Needs TEST_REDIS_URL, except the
// unreachable case.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
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
    await expect(bus.publish({ type: "resync" })).rejects.toThrow();
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
});

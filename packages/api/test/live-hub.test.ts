import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { LiveHub, type FeedLog } from "../src/live/live-hub.js";
import type { FeedEntry } from "../src/live/feed.js";
import type { MessageQueue } from "../src/live/message-queue.js";
import { messageEntry, itemId, settlesSoon } from "./helpers.js";

let bus: InProcessEventBus;
let hub: LiveHub;
/** What the database holds, as the hub's FeedLog reads it. */
let stored: { entry: FeedEntry; recipientIds: string[] }[];
/** Ids of log rows with nothing left to deliver (a message deleted since): read, counted, never delivered. */
let passedOver: Set<string>;
let logFailures: number;
/** Calls of log.after(), and a hook run at each (to act in the middle of a catch-up). */
let reads: number;
let onRead: (() => void) | null;

const log: FeedLog = {
  latestId: async () => BigInt(stored.at(-1)?.entry.id ?? 0),
  async after(afterId, limit) {
    reads += 1;
    onRead?.();
    if (logFailures > 0) {
      logFailures -= 1;
      throw new Error("database unavailable");
    }
    const page = stored.filter((s) => BigInt(s.entry.id) > afterId).slice(0, limit);
    return { entries: page.filter((s) => !passedOver.has(s.entry.id)), lastId: BigInt(page.at(-1)?.entry.id ?? afterId), rows: page.length };
  },
};

beforeEach(() => {
  bus = new InProcessEventBus();
  stored = [];
  passedOver = new Set();
  logFailures = 0;
  reads = 0;
  onRead = null;
  hub = new LiveHub(bus, log);
});

/** Stores message `id` and publishes it, linked to the message stored before it. */
function publishMessage(id: number, recipientIds: string[], prevId = id - 1): Promise<void> {
  stored.push({ entry: messageEntry(id), recipientIds });
  return bus.publish({ type: "entry", entry: messageEntry(id), recipientIds, prevId: String(prevId) });
}

/** Stores message `id` without publishing it (an event the bus lost). */
function storeOnly(id: number, recipientIds: string[]): void {
  stored.push({ entry: messageEntry(id), recipientIds });
}

async function idsIn(queue: MessageQueue): Promise<string[]> {
  return (await queue.take(AbortSignal.abort())).map(itemId);
}

describe("LiveHub", () => {
  it("delivers a published message to a recipient's queue", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice", "bob"]);
    expect(await idsIn(alice)).toEqual(["1"]);
  });

  it("delivers to every queue of a recipient (every open tab)", async () => {
    const firstTab = hub.open("alice");
    const secondTab = hub.open("alice");
    await publishMessage(1, ["alice"]);
    expect(await idsIn(firstTab)).toEqual(["1"]);
    expect(await idsIn(secondTab)).toEqual(["1"]);
  });

  it("does not deliver to a user who is not a recipient", async () => {
    hub.open("alice");
    const carol = hub.open("carol");
    await publishMessage(1, ["alice", "bob"]);
    expect(await idsIn(carol)).toEqual([]);
  });

  it("delivers a recipient's messages in publish order", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    await publishMessage(2, ["alice"]);
    await publishMessage(3, ["alice"]);
    expect(await idsIn(alice)).toEqual(["1", "2", "3"]);
  });

  it("wakes a waiting take() when a message for its user is published", async () => {
    const alice = hub.open("alice");
    const taken = alice.take();
    await publishMessage(1, ["alice"]);
    expect(await settlesSoon(taken)).toBe(true);
  });

  it("ignores session-revoked events", async () => {
    const alice = hub.open("alice");
    await bus.publish({ type: "session-revoked", sessionId: "session-1", expiresAt: 0 });
    expect(await idsIn(alice)).toEqual([]);
  });

  it("counts open subscriptions", () => {
    hub.open("alice");
    hub.open("alice");
    hub.open("bob");
    expect(hub.subscriptionCount).toBe(3);
  });

  it("release removes the queue from the subscription count", () => {
    const alice = hub.open("alice");
    hub.open("alice");
    hub.release("alice", alice);
    expect(hub.subscriptionCount).toBe(1);
  });

  it("release closes the queue, so it receives nothing more", async () => {
    const alice = hub.open("alice");
    hub.release("alice", alice);
    await publishMessage(1, ["alice"]);
    expect(alice.isClosed).toBe(true);
    expect(await idsIn(alice)).toEqual([]);
  });

  it("release of one tab leaves the user's other tab receiving", async () => {
    const firstTab = hub.open("alice");
    const secondTab = hub.open("alice");
    hub.release("alice", firstTab);
    await publishMessage(1, ["alice"]);
    expect(await idsIn(secondTab)).toEqual(["1"]);
  });

  it("close() closes every queue and forgets them", async () => {
    const alice = hub.open("alice");
    hub.close();
    await publishMessage(1, ["alice"]);
    expect(alice.isClosed).toBe(true);
    expect(hub.subscriptionCount).toBe(0);
  });
});

describe("LiveHub ordering across instances", () => {
  /** Waits for the gap timer (50 ms) and the database read it starts. */
  const afterGapFill = () => new Promise((resolve) => setTimeout(resolve, 120));

  it("holds an event that arrives before the one stored ahead of it, then delivers both in id order", async () => {
    const alice = hub.open("alice");
    stored.push({ entry: messageEntry(1), recipientIds: ["alice"] });
    stored.push({ entry: messageEntry(2), recipientIds: ["alice"] });
    await bus.publish({ type: "entry", entry: messageEntry(2), recipientIds: ["alice"], prevId: "1" });
    expect(await idsIn(alice)).toEqual([]);
    await bus.publish({ type: "entry", entry: messageEntry(1), recipientIds: ["alice"], prevId: "0" });
    expect(await idsIn(alice)).toEqual(["1", "2"]);
  });

  it("reads a message whose event never arrived from the database, in order, before the ones after it", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    storeOnly(2, ["alice"]);
    await publishMessage(3, ["alice"]);
    expect(await idsIn(alice)).toEqual(["1"]);
    await afterGapFill();
    expect(await idsIn(alice)).toEqual(["2", "3"]);
  });

  it("ignores an event delivered late, after the database already supplied it", async () => {
    const alice = hub.open("alice");
    storeOnly(1, ["alice"]);
    await publishMessage(2, ["alice"]);
    await afterGapFill();
    await bus.publish({ type: "entry", entry: messageEntry(1), recipientIds: ["alice"], prevId: "0" });
    await bus.publish({ type: "entry", entry: messageEntry(2), recipientIds: ["alice"], prevId: "1" });
    expect(await idsIn(alice)).toEqual(["1", "2"]);
  });

  it("after a resync reads everything stored since the last delivered message", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    storeOnly(2, ["alice", "bob"]);
    storeOnly(3, ["bob"]);
    storeOnly(4, ["alice"]);
    await bus.publish({ type: "resync" });
    await hub.catchUp();
    expect(await idsIn(alice)).toEqual(["1", "2", "4"]);
    expect(hub.lastDeliveredId).toBe(4n);
  });

  it("a resync event alone starts the read of what was missed", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    storeOnly(2, ["alice"]);
    await idsIn(alice);
    await bus.publish({ type: "resync" });
    const taken = await alice.take(AbortSignal.timeout(2_000));
    expect(taken.map(itemId)).toEqual(["2"]);
  });

  it.each([1_000, 1_200])("catches up on %i missed messages page by page, each once and in order", async (count) => {
    const alice = hub.open("alice");
    for (let id = 1; id <= count; id++) storeOnly(id, ["alice"]);
    await hub.catchUp();
    const ids = await idsIn(alice);
    expect(ids).toHaveLength(count);
    expect(ids.at(0)).toBe("1");
    expect(ids.at(-1)).toBe(String(count));
    expect(hub.lastDeliveredId).toBe(BigInt(count));
  });

  it("holds live events that arrive during a catch-up and delivers them after it, in order", async () => {
    const alice = hub.open("alice");
    storeOnly(1, ["alice"]);
    const catchingUp = hub.catchUp();
    await publishMessage(2, ["alice"]);
    await catchingUp;
    await afterGapFill();
    expect(await idsIn(alice)).toEqual(["1", "2"]);
  });

  it("ignores an event for a message at or below the last one delivered", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    await publishMessage(2, ["alice"]);
    await bus.publish({ type: "entry", entry: messageEntry(2), recipientIds: ["alice"], prevId: "1" });
    await bus.publish({ type: "entry", entry: messageEntry(1), recipientIds: ["alice"], prevId: "0" });
    expect(await idsIn(alice)).toEqual(["1", "2"]);
  });

  it("reports a failed database read to its error handler", async () => {
    const errors: unknown[] = [];
    hub.close();
    hub = new LiveHub(bus, log, (error) => errors.push(error));
    logFailures = 1;
    storeOnly(1, ["alice"]);
    await hub.catchUp();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain("database unavailable");
  });

  it("stops reading the database once a gap is filled", async () => {
    const alice = hub.open("alice");
    storeOnly(1, ["alice"]);
    await publishMessage(2, ["alice"]);
    await afterGapFill();
    expect(await idsIn(alice)).toEqual(["1", "2"]);
    const readsAfterFill = reads;
    await afterGapFill();
    expect(reads).toBe(readsAfterFill);
  });

  it("stops a catch-up between pages when the hub is closed", async () => {
    for (let id = 1; id <= 1_200; id++) storeOnly(id, ["alice"]);
    onRead = () => {
      if (reads === 1) hub.close();
    };
    await hub.catchUp();
    expect(reads).toBe(1);
  });

  it("release of a queue after close() is harmless", () => {
    const alice = hub.open("alice");
    hub.close();
    expect(() => hub.release("alice", alice)).not.toThrow();
    expect(hub.subscriptionCount).toBe(0);
  });

  it("reads nothing more once closed", async () => {
    const alice = hub.open("alice");
    storeOnly(1, ["alice"]);
    hub.close();
    await hub.catchUp();
    expect(hub.lastDeliveredId).toBe(0n);
    expect(await idsIn(alice)).toEqual([]);
  });

  it("starts after the newest stored message: older ones are left to backfill", async () => {
    storeOnly(1, ["alice"]);
    storeOnly(2, ["alice"]);
    await hub.start();
    const alice = hub.open("alice");
    await publishMessage(3, ["alice"]);
    expect(await idsIn(alice)).toEqual(["3"]);
  });

  it("retries the database read when it fails, and then delivers", async () => {
    const alice = hub.open("alice");
    logFailures = 1;
    storeOnly(1, ["alice"]);
    await publishMessage(2, ["alice"]);
    await afterGapFill();
    expect(await idsIn(alice)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await idsIn(alice)).toEqual(["1", "2"]);
  });

  it("delivers a held event as soon as the ones before it arrive, without reading the database", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    await publishMessage(4, ["alice"]);
    await publishMessage(2, ["alice"]);
    expect(await idsIn(alice)).toEqual(["1", "2"]);
    await publishMessage(3, ["alice"]);
    expect(await idsIn(alice)).toEqual(["3", "4"]);
    await afterGapFill();
    expect(reads).toBe(0);
  });

  it("reads nothing when the missing event arrives before the gap timer fires", async () => {
    const alice = hub.open("alice");
    await publishMessage(2, ["alice"]);
    await publishMessage(1, ["alice"]);
    expect(await idsIn(alice)).toEqual(["1", "2"]);
    await afterGapFill();
    expect(reads).toBe(0);
  });

  it("reads nothing for an event it already delivered", async () => {
    const alice = hub.open("alice");
    await publishMessage(1, ["alice"]);
    await bus.publish({ type: "entry", entry: messageEntry(1), recipientIds: ["alice"], prevId: "0" });
    await afterGapFill();
    expect(await idsIn(alice)).toEqual(["1"]);
    expect(reads).toBe(0);
  });

  it("reads once per catch-up, and not again afterwards when nothing is held", async () => {
    storeOnly(1, ["alice"]);
    await hub.catchUp();
    expect(reads).toBe(1);
    await afterGapFill();
    expect(reads).toBe(1);
  });

  it("passes log rows with nothing to deliver, so the event after them follows on at once", async () => {
    const alice = hub.open("alice");
    storeOnly(1, ["alice"]);
    storeOnly(2, ["alice"]);
    passedOver.add("2");
    await hub.catchUp();
    expect(hub.lastDeliveredId).toBe(2n);
    expect(await idsIn(alice)).toEqual(["1"]);
    await publishMessage(3, ["alice"]);
    expect(await idsIn(alice)).toEqual(["3"]);
    expect(reads).toBe(1);
  });

  it("hands typing and presence only to the named users' queues that asked for them", async () => {
    const wants = hub.open("alice", { ephemeral: true });
    const plain = hub.open("alice");
    const other = hub.open("bob", { ephemeral: true });
    hub.deliverEphemeral(["alice", "carol"], { type: "typing", conversationId: "c", userId: "dave" });
    expect(wants.ephemeral).toBe(true);
    expect(plain.ephemeral).toBe(false);
    expect([await idsIn(wants), await idsIn(plain), await idsIn(other)]).toEqual([["typing"], [], []]);
  });
});

describe("LiveHub waiting for a missing event", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads the gap from the database after 50 ms, and after failed reads backs off 200, 400, 800 ms ... up to 5 s", async () => {
    const errors: unknown[] = [];
    hub.close();
    hub = new LiveHub(bus, log, (error) => errors.push(error));
    const alice = hub.open("alice");
    storeOnly(1, ["alice"]);
    await publishMessage(2, ["alice"]);
    logFailures = 7;
    // Each read happens exactly when its wait is over, not before.
    const waits = [50, 200, 400, 800, 1_600, 3_200, 5_000, 5_000];
    for (const [i, wait] of waits.entries()) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(reads).toBe(i);
      await vi.advanceTimersByTimeAsync(1);
      expect(reads).toBe(i + 1);
    }
    expect(errors).toHaveLength(7);
    expect(await idsIn(alice)).toEqual(["1", "2"]);
    // Filled: the next gap is waited for 50 ms again.
    storeOnly(3, ["alice"]);
    await publishMessage(4, ["alice"]);
    await vi.advanceTimersByTimeAsync(49);
    expect(reads).toBe(8);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toBe(9);
    expect(await idsIn(alice)).toEqual(["3", "4"]);
  });
});

import { beforeEach, describe, expect, it } from "vitest";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { LiveHub } from "../src/live/live-hub.js";
import type { MessageQueue } from "../src/live/message-queue.js";
import { messageDto, settlesSoon } from "./helpers.js";

let bus: InProcessEventBus;
let hub: LiveHub;

beforeEach(() => {
  bus = new InProcessEventBus();
  hub = new LiveHub(bus);
});

function publishMessage(id: number, recipientIds: string[]): Promise<void> {
  return bus.publish({ type: "message", message: messageDto(id), recipientIds });
}

async function idsIn(queue: MessageQueue): Promise<string[]> {
  return (await queue.take(AbortSignal.abort())).map((m) => m.id);
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

import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { MessageQueue } from "../src/live/message-queue.js";
import { messageEntry, itemId, settlesSoon } from "./helpers.js";

describe("MessageQueue", () => {
  it("take() returns everything queued, in push order", async () => {
    const queue = new MessageQueue(false);
    queue.push(messageEntry(1));
    queue.push(messageEntry(2));
    queue.push(messageEntry(3));
    expect((await queue.take()).map(itemId)).toEqual(["1", "2", "3"]);
  });

  it("take() does not return a message twice", async () => {
    const queue = new MessageQueue(false);
    queue.push(messageEntry(1));
    await queue.take();
    queue.push(messageEntry(2));
    expect((await queue.take()).map(itemId)).toEqual(["2"]);
  });

  it("take() on an empty queue waits for the next push", async () => {
    const queue = new MessageQueue(false);
    const taken = queue.take();
    expect(await settlesSoon(taken)).toBe(false);
    queue.push(messageEntry(1));
    expect((await taken).map(itemId)).toEqual(["1"]);
  });

  it("take() returns when the queue is closed", async () => {
    const queue = new MessageQueue(false);
    const taken = queue.take();
    expect(await settlesSoon(taken)).toBe(false);
    queue.close();
    expect(await taken).toEqual([]);
  });

  it("take() returns when its signal is aborted", async () => {
    const queue = new MessageQueue(false);
    const abort = new AbortController();
    const taken = queue.take(abort.signal);
    expect(await settlesSoon(taken)).toBe(false);
    abort.abort();
    expect(await taken).toEqual([]);
  });

  it("take() with an already aborted signal returns at once", async () => {
    const queue = new MessageQueue(false);
    expect(await queue.take(AbortSignal.abort())).toEqual([]);
  });

  it("still hands out the messages queued before it was closed", async () => {
    const queue = new MessageQueue(false);
    queue.push(messageEntry(1));
    queue.close();
    expect((await queue.take()).map(itemId)).toEqual(["1"]);
  });

  it("ignores pushes after close", async () => {
    const queue = new MessageQueue(false);
    queue.close();
    queue.push(messageEntry(1));
    expect(await queue.take()).toEqual([]);
  });

  it("reports that it is closed", () => {
    const queue = new MessageQueue(false);
    queue.close();
    expect(queue.isClosed).toBe(true);
  });

  it("take() leaves no listener on its signal once it has returned", async () => {
    const queue = new MessageQueue(false);
    const abort = new AbortController();
    for (let i = 1; i <= 3; i += 1) {
      const taken = queue.take(abort.signal);
      queue.push(messageEntry(i));
      expect((await taken).map(itemId)).toEqual([String(i)]);
    }
    expect(getEventListeners(abort.signal, "abort")).toHaveLength(0);
  });
});

describe("MessageQueue.closeOn", () => {
  it("closes the queue when the signal aborts, waking a waiting take()", async () => {
    const queue = new MessageQueue(false);
    const abort = new AbortController();
    queue.closeOn(abort.signal);
    const taken = queue.take();
    expect(await settlesSoon(taken)).toBe(false);
    abort.abort();
    expect(await taken).toEqual([]);
    expect(queue.isClosed).toBe(true);
    expect(getEventListeners(abort.signal, "abort")).toHaveLength(0);
  });

  it("closes the queue at once for a signal that has already aborted", () => {
    const queue = new MessageQueue(false);
    queue.closeOn(AbortSignal.abort());
    expect(queue.isClosed).toBe(true);
  });

  it("leaves the queue open without a signal, or while the signal has not aborted", () => {
    const queue = new MessageQueue(false);
    queue.closeOn(undefined);
    queue.closeOn(new AbortController().signal);
    expect(queue.isClosed).toBe(false);
  });
});

describe("MessageQueue.consumeWith", () => {
  it("hands over what was queued, in order with its commit times, then each push at once, in the pusher's turn", async () => {
    const queue = new MessageQueue(false);
    queue.push(messageEntry(1), 1_000);
    queue.push(messageEntry(2), 2_000);
    const seen: string[] = [];
    const consumed = queue.consumeWith((item, committedAt) => seen.push(`${itemId(item)}@${committedAt}`));
    expect(seen).toEqual(["1@1000", "2@2000"]);
    queue.push(messageEntry(3), 3_000);
    expect(seen).toEqual(["1@1000", "2@2000", "3@3000"]);
    expect(await settlesSoon(consumed)).toBe(false);
    queue.close();
    await consumed;
    queue.push(messageEntry(4), 4_000);
    expect(seen).toHaveLength(3);
  });

  it("ends when the queue is closed by its signal", async () => {
    const queue = new MessageQueue(false);
    const abort = new AbortController();
    queue.closeOn(abort.signal);
    const consumed = queue.consumeWith(() => undefined);
    expect(await settlesSoon(consumed)).toBe(false);
    abort.abort();
    await consumed;
    expect(queue.isClosed).toBe(true);
  });

  it("a consumer that throws closes its own queue and ends with the error; the pusher goes on", async () => {
    const broken = new MessageQueue(false);
    const healthy = new MessageQueue(false);
    const seen: string[] = [];
    const failure = new Error("socket gone");
    const brokenConsumed = broken.consumeWith(() => {
      throw failure;
    });
    const healthyConsumed = healthy.consumeWith((item) => seen.push(itemId(item)));
    // What a publisher does: push to every recipient's queue in turn.
    for (const queue of [broken, healthy]) queue.push(messageEntry(1));
    expect(seen).toEqual(["1"]);
    expect(broken.isClosed).toBe(true);
    await expect(brokenConsumed).rejects.toBe(failure);
    healthy.push(messageEntry(2));
    expect(seen).toEqual(["1", "2"]);
    healthy.close();
    await healthyConsumed;
  });
});

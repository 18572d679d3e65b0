import { describe, expect, it } from "vitest";
import {
  confirm,
  dueForSending,
  enqueue,
  failTransiently,
  isWaiting,
  nextRetryAt,
  reject,
  restore,
  retry,
  startAttempt,
  wake,
  toStored,
  withoutSent,
  type Outbox,
} from "../src/chat/outbox";
import { message } from "./helpers";

function draft(clientMessageId: string, conversationId = "c1") {
  return { clientMessageId, conversationId, senderId: "me", content: `text ${clientMessageId}`, createdAt: "2025-03-10T12:00:00.000Z" };
}

const transient = { now: 1_000, delayMs: 500 };

describe("outbox", () => {
  it("starts a new message as pending and due for sending", () => {
    const outbox = enqueue([], draft("a"));
    expect(outbox[0]).toMatchObject({ status: "pending", inFlight: false, attempts: 0 });
    expect(dueForSending(outbox, 0).map((e) => e.clientMessageId)).toEqual(["a"]);
  });

  it("ignores a second enqueue of the same clientMessageId", () => {
    const outbox = enqueue([], draft("a"));
    expect(enqueue(outbox, draft("a"))).toBe(outbox);
  });

  it("marks it sent with the stored message when confirmed", () => {
    let outbox = startAttempt(enqueue([], draft("a")), "a");
    const stored = message({ id: "7", senderId: "me", clientMessageId: "a" });
    outbox = confirm(outbox, stored);
    expect(outbox[0]).toMatchObject({ status: "sent", inFlight: false, message: stored });
  });

  it("is confirmed by the live echo of the same sender's clientMessageId", () => {
    const outbox = enqueue([], draft("a"));
    expect(confirm(outbox, message({ senderId: "someone-else", clientMessageId: "a" }))).toBe(outbox);
    expect(confirm(outbox, message({ senderId: "me", clientMessageId: "a" }))[0]?.status).toBe("sent");
  });

  it("stays sent when the request fails after the live echo confirmed it", () => {
    let outbox = startAttempt(enqueue([], draft("a")), "a");
    outbox = confirm(outbox, message({ senderId: "me", clientMessageId: "a" }));
    expect(failTransiently(outbox, "a", transient)).toBe(outbox);
    expect(reject(outbox, "a", "no")).toBe(outbox);
  });

  it("waits after a transient failure and is due again once the delay has passed", () => {
    let outbox = startAttempt(enqueue([], draft("a")), "a");
    outbox = failTransiently(outbox, "a", transient);
    expect(outbox[0]).toMatchObject({ status: "pending", attempts: 1, retryAt: 1_500 });
    expect(dueForSending(outbox, 1_499)).toEqual([]);
    expect(dueForSending(outbox, 1_500)).toHaveLength(1);
    expect(nextRetryAt(outbox)).toBe(1_500);
  });

  it("is due at once after a reconnect wakes it", () => {
    let outbox = startAttempt(enqueue([], draft("a")), "a");
    outbox = wake(failTransiently(outbox, "a", transient));
    expect(dueForSending(outbox, 0)).toHaveLength(1);
  });

  it("never gives up on a message because the connection was down, however many attempts failed", () => {
    let outbox: Outbox = enqueue([], draft("a"));
    for (let i = 0; i < 100; i += 1) outbox = failTransiently(startAttempt(outbox, "a"), "a", transient);
    expect(outbox[0]).toMatchObject({ status: "pending", attempts: 100, error: null });
    expect(isWaiting(outbox[0]!)).toBe(true);
    expect(dueForSending(wake(outbox), 0).map((e) => e.clientMessageId)).toEqual(["a"]);
  });

  it("keeps what a reload needs, and restores it: pending ones to send again, refused ones failed", () => {
    let outbox = enqueue(enqueue([], draft("a")), draft("b"));
    outbox = reject(startAttempt(outbox, "b"), "b", "Not sent: the message was not accepted.");
    const stored = outbox.map(toStored);
    expect(stored).toEqual([
      { ...draft("a"), error: null },
      { ...draft("b"), error: "Not sent: the message was not accepted." },
    ]);
    const restored = restore(enqueue([], draft("a")), stored);
    expect(restored.map((e) => [e.clientMessageId, e.status, e.error])).toEqual([
      ["a", "pending", null],
      ["b", "failed", "Not sent: the message was not accepted."],
    ]);
    expect(dueForSending(restored, 0).map((e) => e.clientMessageId)).toEqual(["a"]);
  });

  it("fails at once when the server refuses it, and can be retried by hand", () => {
    let outbox = reject(startAttempt(enqueue([], draft("a")), "a"), "a", "Not sent: too many messages at once.");
    expect(outbox[0]).toMatchObject({ status: "failed", inFlight: false, error: "Not sent: too many messages at once." });
    outbox = retry(outbox, "a");
    expect(outbox[0]).toMatchObject({ status: "pending", attempts: 0, error: null });
    expect(dueForSending(outbox, 0)).toHaveLength(1);
  });

  it("keeps the same clientMessageId across retries", () => {
    let outbox = failTransiently(startAttempt(enqueue([], draft("a")), "a"), "a", transient);
    outbox = startAttempt(wake(outbox), "a");
    expect(outbox.map((e) => e.clientMessageId)).toEqual(["a"]);
  });

  it("sends one message per conversation at a time, oldest first", () => {
    let outbox = enqueue(enqueue(enqueue([], draft("a")), draft("b")), draft("x", "c2"));
    expect(dueForSending(outbox, 0).map((e) => e.clientMessageId)).toEqual(["a", "x"]);
    outbox = startAttempt(outbox, "a");
    expect(dueForSending(outbox, 0).map((e) => e.clientMessageId)).toEqual(["x"]);
    outbox = confirm(outbox, message({ senderId: "me", clientMessageId: "a" }));
    expect(dueForSending(outbox, 0).map((e) => e.clientMessageId)).toEqual(["b", "x"]);
  });

  it("holds later messages back while an earlier one waits to be retried", () => {
    const outbox = failTransiently(startAttempt(enqueue(enqueue([], draft("a")), draft("b")), "a"), "a", transient);
    expect(dueForSending(outbox, 1_000)).toEqual([]);
  });

  it("does not hold later messages back behind a failed one", () => {
    const outbox = reject(startAttempt(enqueue(enqueue([], draft("a")), draft("b")), "a"), "a", "no");
    expect(dueForSending(outbox, 0).map((e) => e.clientMessageId)).toEqual(["b"]);
  });

  it("drops sent entries on request and keeps the rest", () => {
    let outbox = enqueue(enqueue([], draft("a")), draft("b"));
    outbox = confirm(outbox, message({ senderId: "me", clientMessageId: "a" }));
    expect(withoutSent(outbox).map((e) => e.clientMessageId)).toEqual(["b"]);
  });
});

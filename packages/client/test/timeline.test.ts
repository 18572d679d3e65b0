import { describe, expect, it } from "vitest";
import { enqueue, confirm, type Outbox } from "../src/chat/outbox";
import { buildTimeline, compareIds, insertMessage, newer } from "../src/chat/timeline";
import { message } from "./helpers";

function pending(content: string, clientMessageId: string, senderId = "me"): Outbox {
  return enqueue([], { clientMessageId, conversationId: "c1", senderId, content, createdAt: "2025-03-10T12:05:00.000Z" });
}

describe("compareIds", () => {
  it("orders ids numerically, not as text", () => {
    expect(compareIds("9", "10")).toBeLessThan(0);
    expect(compareIds("100", "99")).toBeGreaterThan(0);
    expect(compareIds("42", "42")).toBe(0);
  });

  it("handles ids beyond the safe integer range", () => {
    expect(compareIds("9007199254740993", "9007199254740992")).toBeGreaterThan(0);
  });
});

describe("insertMessage", () => {
  it("keeps the list sorted by id", () => {
    let list = insertMessage([], message({ id: "5" }));
    list = insertMessage(list, message({ id: "3" }));
    list = insertMessage(list, message({ id: "12" }));
    expect(list.map((m) => m.id)).toEqual(["3", "5", "12"]);
  });

  it("returns the same list when the message is already there", () => {
    const list = insertMessage([], message({ id: "5" }));
    expect(insertMessage(list, message({ id: "5" }))).toBe(list);
  });
});

describe("newer", () => {
  it("picks the message with the higher id, or whichever exists", () => {
    const a = message({ id: "9" });
    const b = message({ id: "10" });
    expect(newer(a, b)).toBe(b);
    expect(newer(null, a)).toBe(a);
    expect(newer(undefined, undefined)).toBeNull();
  });
});

describe("buildTimeline", () => {
  it("puts history pages in id order whatever order the pages come in", () => {
    const older = [message({ id: "1" }), message({ id: "2" })];
    const newest = [message({ id: "3" }), message({ id: "4" })];
    const items = buildTimeline({ pages: [newest, older], live: [], outbox: [] });
    expect(items.map((i) => i.id)).toEqual(["1", "2", "3", "4"]);
  });

  it("shows a message that is both in history and live exactly once", () => {
    const m3 = message({ id: "3" });
    const items = buildTimeline({ pages: [[message({ id: "2" }), m3]], live: [m3, message({ id: "4" })], outbox: [] });
    expect(items.map((i) => i.id)).toEqual(["2", "3", "4"]);
  });

  it("shows live messages that arrive out of order in id order", () => {
    const items = buildTimeline({ pages: [], live: [message({ id: "8" }), message({ id: "7" })], outbox: [] });
    expect(items.map((i) => i.id)).toEqual(["7", "8"]);
  });

  it("shows a pending send after the stored messages, without an id", () => {
    const items = buildTimeline({ pages: [[message({ id: "1" })]], live: [], outbox: pending("hello", "x1") });
    expect(items).toHaveLength(2);
    expect(items[1]).toMatchObject({ id: null, status: "pending", content: "hello", clientMessageId: "x1" });
  });

  it("replaces a pending send by the stored message once it arrives live, keeping its key", () => {
    const outbox = pending("hello", "x1");
    const before = buildTimeline({ pages: [], live: [], outbox });
    const stored = message({ id: "9", senderId: "me", clientMessageId: "x1", content: "hello" });
    const after = buildTimeline({ pages: [], live: [stored], outbox });
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: "9", status: "sent" });
    expect(after[0]?.key).toBe(before[0]?.key);
  });

  it("shows a confirmed send once even when it is also in history and live", () => {
    const stored = message({ id: "9", senderId: "me", clientMessageId: "x1" });
    const outbox = confirm(pending("hello", "x1"), stored);
    const items = buildTimeline({ pages: [[stored]], live: [stored], outbox });
    expect(items.map((i) => i.id)).toEqual(["9"]);
  });

  it("does not confuse another sender's clientMessageId with one's own", () => {
    const theirs = message({ id: "4", senderId: "bob", clientMessageId: "x1" });
    const items = buildTimeline({ pages: [], live: [theirs], outbox: pending("mine", "x1", "me") });
    expect(items.map((i) => [i.senderId, i.status])).toEqual([
      ["bob", "sent"],
      ["me", "pending"],
    ]);
  });

  it("keeps pending sends in the order they were written", () => {
    let outbox = pending("first", "a");
    outbox = enqueue(outbox, { clientMessageId: "b", conversationId: "c1", senderId: "me", content: "second", createdAt: "2025-03-10T12:06:00.000Z" });
    const items = buildTimeline({ pages: [], live: [], outbox });
    expect(items.map((i) => i.content)).toEqual(["first", "second"]);
  });
});

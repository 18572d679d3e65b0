// The words and marks of live state: who is typing, presence, and where "Seen" goes.
import { describe, expect, it } from "vitest";
import { seenKey } from "../src/lib/message-groups";
import { presenceLabel } from "../src/lib/presence";
import { typingText } from "../src/lib/typing";
import { message } from "./helpers";
import { buildTimeline, type OutboxEntry, type User } from "@parley/client";

const lena: User = { id: "l", username: "lena", fullName: "Lena Berg" };
const marco: User = { id: "m", username: "marco", fullName: "" };
const members = new Map([lena, marco].map((u) => [u.id, u]));

describe("typingText", () => {
  it("names one or two people typing, by full name or else username", () => {
    expect(typingText(["l"], members)).toBe("Lena Berg is typing…");
    expect(typingText(["l", "m"], members)).toBe("Lena Berg and marco are typing…");
  });

  it("names nobody from three people on, and says nothing when nobody types", () => {
    expect(typingText(["l", "m", "x"], members)).toBe("Several people are typing…");
    expect(typingText([], members)).toBeNull();
  });

  it("calls someone not among the known members Someone", () => {
    expect(typingText(["x"], members)).toBe("Someone is typing…");
  });
});

describe("presenceLabel", () => {
  it("says each status in words, and nothing while it is unknown", () => {
    expect(presenceLabel("online")).toBe("Online");
    expect(presenceLabel("away")).toBe("Away");
    expect(presenceLabel("offline")).toBe("Offline");
    expect(presenceLabel(undefined)).toBeNull();
  });
});

describe("seenKey", () => {
  const timeline = (ms: [string, string][], outbox: OutboxEntry[] = []) =>
    buildTimeline({ pages: [ms.map(([id, senderId]) => message({ id, senderId, clientMessageId: `c${id}` }))], live: [], outbox });

  it("marks the reader's last message once the other person has read up to it or past it", () => {
    const items = timeline([
      ["1", "b"],
      ["2", "a"],
      ["3", "a"],
    ]);
    expect(seenKey(items, "3", "a")).toBe(items[2]?.key);
    expect(seenKey(items, "9", "a")).toBe(items[2]?.key);
    expect(seenKey(items, "2", "a")).toBeNull();
    expect(seenKey(items, null, "a")).toBeNull();
  });

  it("marks nothing when the newest message is the other person's", () => {
    const items = timeline([
      ["2", "a"],
      ["3", "b"],
    ]);
    expect(seenKey(items, "3", "a")).toBeNull();
  });

  it("marks nothing while the reader's newest message is still being sent", () => {
    const pending: OutboxEntry = {
      clientMessageId: "new",
      conversationId: "c1",
      senderId: "a",
      content: "hi",
      createdAt: "2025-03-10T12:05:00.000Z",
      status: "pending",
      inFlight: true,
      attempts: 0,
      retryAt: null,
      error: null,
      message: null,
    };
    const items = timeline([["2", "a"]], [pending]);
    expect(items.at(-1)?.id).toBeNull();
    expect(seenKey(items, "2", "a")).toBeNull();
  });
});

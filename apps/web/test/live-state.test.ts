// The words and marks of live state: who is typing, presence, and where "Seen" goes.
import { describe, expect, it } from "vitest";
import { withConversation, withoutConversation } from "../src/lib/conversations";
import { seenKey } from "../src/lib/message-groups";
import { presenceLabel } from "../src/lib/presence";
import { typingText } from "../src/lib/typing";
import { message } from "./helpers";
import { buildTimeline, type Conversation, type OutboxEntry, type User } from "@parley/client";

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

describe("the conversation list following the feed", () => {
  const member = (u: User, role: "owner" | "member" = "member") => ({ ...u, role, lastReadMessageId: null });
  const group = (id: string, title: string | null, overrides: Partial<Conversation> = {}): Conversation => ({
    id,
    title,
    isDirect: false,
    members: [member(lena, "owner"), member(marco)],
    memberCount: 2,
    createdAt: "2025-03-01T00:00:00.000Z",
    lastMessage: null,
    lastReadMessageId: null,
    unreadCount: 0,
    mentionCount: 0,
    notify: "all",
    ...overrides,
  });

  it("replaces a renamed conversation where it is, keeping the newer last message", () => {
    const last = message({ id: "90", conversationId: "g2" });
    const pages = [[group("g1", "One")], [group("g2", "Two", { lastMessage: last })]];
    const next = withConversation(pages, group("g2", "Deux", { lastMessage: null }));
    expect(next.map((page) => page.map((c) => c.title))).toEqual([["One"], ["Deux"]]);
    expect(next[1]?.[0]?.lastMessage).toBe(last);
  });

  it("puts a conversation new to the reader at the top", () => {
    const next = withConversation([[group("g1", "One")], [group("g2", "Two")]], group("g3", "Three"));
    expect(next.map((page) => page.map((c) => c.id))).toEqual([["g3", "g1"], ["g2"]]);
    expect(withConversation([], group("g3", "Three")).map((page) => page.map((c) => c.id))).toEqual([["g3"]]);
  });

  it("takes out a conversation the reader left or lost", () => {
    const next = withoutConversation([[group("g1", "One"), group("g2", "Two")], [group("g3", "Three")]], "g2");
    expect(next.map((page) => page.map((c) => c.id))).toEqual([["g1"], ["g3"]]);
  });
});

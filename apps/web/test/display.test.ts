import { describe, expect, it } from "vitest";
import {
  CONVERSATION_PAGE_SIZE,
  conversationTitle,
  flattenConversationPages,
  initials,
  nameWithUsername,
  nextConversationCursor,
  sortByActivity,
} from "../src/lib/conversations";
import { formatDayLabel, formatListTime } from "../src/lib/format";
import { parseRoute, routeHash } from "../src/lib/route";
import { estimateRowHeight, firstUnreadKey, lastEditableIndex, layOut } from "../src/lib/message-groups";
import { threadRootInput } from "../src/lib/threads";
import { message } from "./helpers";
import { buildTimeline, type Conversation } from "@parley/client";

const alice = { id: "a", username: "alice", fullName: "Alice Liddell", role: "owner" as const, lastReadMessageId: null };
const bob = { id: "b", username: "bob", fullName: "", role: "member" as const, lastReadMessageId: null };
const carol = { id: "c", username: "carol", fullName: "Carol Danvers", role: "member" as const, lastReadMessageId: null };

function conversation(overrides: Partial<Conversation>): Conversation {
  const members = overrides.members ?? [alice, bob, carol];
  return { id: "c1", title: null, isDirect: false, members, memberCount: members.length, lastMessage: null, createdAt: "2025-03-01T00:00:00.000Z", lastReadMessageId: null, unreadCount: 0, mentionCount: 0, notify: "all", ...overrides };
}

describe("conversationTitle", () => {
  it("names a direct conversation after the other person", () => {
    expect(conversationTitle(conversation({ isDirect: true, members: [alice, bob] }), "a")).toBe("bob");
    expect(conversationTitle(conversation({ isDirect: true, members: [alice, bob] }), "b")).toBe("Alice Liddell");
  });

  it("uses the title of a group", () => {
    expect(conversationTitle(conversation({ title: "Launch" }), "a")).toBe("Launch");
  });

  it("lists the other members of an untitled group", () => {
    expect(conversationTitle(conversation({}), "a")).toBe("bob and Carol Danvers");
  });

  it("counts the members a listed group leaves out", () => {
    expect(conversationTitle(conversation({ memberCount: 40 }), "a")).toBe("bob, Carol Danvers and 37 others");
    expect(conversationTitle(conversation({ members: [alice, bob], memberCount: 3 }), "a")).toBe("bob and 1 other");
  });
});

describe("nameWithUsername", () => {
  it("puts the unique username beside a full name that anyone may choose", () => {
    expect(nameWithUsername(alice)).toBe("Alice Liddell (@alice)");
    expect(nameWithUsername({ username: "mallory", fullName: "alice" })).toBe("alice (@mallory)");
    expect(nameWithUsername(bob)).toBe("@bob");
  });
});

describe("conversation pages", () => {
  const page = (ids: string[]) => ids.map((id) => conversation({ id }));

  it("asks for another page only after a full one, from its last conversation", () => {
    const full = page(Array.from({ length: CONVERSATION_PAGE_SIZE }, (_, i) => `c${i}`));
    expect(nextConversationCursor(full)).toBe(`c${CONVERSATION_PAGE_SIZE - 1}`);
    expect(nextConversationCursor(full.slice(1))).toBeUndefined();
    expect(nextConversationCursor([])).toBeUndefined();
  });

  it("shows a conversation that moved between pages once, where it is newest", () => {
    const flat = flattenConversationPages([page(["x", "y"]), page(["y", "z"])]);
    expect(flat.map((c) => c.id)).toEqual(["x", "y", "z"]);
  });
});

describe("sortByActivity", () => {
  it("puts the conversation with the newest message first, and falls back to creation time", () => {
    const quiet = conversation({ id: "quiet", createdAt: "2025-03-05T00:00:00.000Z" });
    const busy = conversation({ id: "busy", createdAt: "2025-03-01T00:00:00.000Z" });
    const last = { busy: message({ id: "50", conversationId: "busy", createdAt: "2025-03-06T00:00:00.000Z" }) };
    const sorted = sortByActivity([quiet, busy], (id) => last[id as keyof typeof last]);
    expect(sorted.map((c) => c.id)).toEqual(["busy", "quiet"]);
  });

  it("keeps the server's order for ties", () => {
    const sorted = sortByActivity([conversation({ id: "x" }), conversation({ id: "y" })], () => null);
    expect(sorted.map((c) => c.id)).toEqual(["x", "y"]);
  });
});

describe("initials", () => {
  it("takes the first letters of the first and last word", () => {
    expect(initials("Alice Liddell")).toBe("AL");
    expect(initials("bob")).toBe("BO");
    expect(initials("")).toBe("?");
  });
});

describe("dates", () => {
  const now = new Date("2025-03-10T15:00:00Z");
  const utc = { locale: "en-GB", timeZone: "UTC" };

  it("labels days relative to today", () => {
    expect(formatDayLabel("2025-03-10T08:00:00Z", now, utc)).toBe("Today");
    expect(formatDayLabel("2025-03-09T23:59:00Z", now, utc)).toBe("Yesterday");
    expect(formatDayLabel("2025-03-07T10:00:00Z", now, utc)).toBe("Friday");
    expect(formatDayLabel("2024-12-25T10:00:00Z", now, utc)).toContain("2024");
  });

  it("shows the time for today in the list, and a weekday within the week", () => {
    expect(formatListTime("2025-03-10T08:05:00Z", now, utc)).toBe("8:05");
    expect(formatListTime("2025-03-08T08:05:00Z", now, utc)).toBe("Sat");
  });
});

describe("layOut", () => {
  it("shows the sender once for a run of quick messages and again after a pause or another sender", () => {
    const items = buildTimeline({
      pages: [
        [
          message({ id: "1", senderId: "a", createdAt: "2025-03-10T12:00:00Z" }),
          message({ id: "2", senderId: "a", createdAt: "2025-03-10T12:01:00Z" }),
          message({ id: "3", senderId: "b", createdAt: "2025-03-10T12:02:00Z" }),
          message({ id: "4", senderId: "b", createdAt: "2025-03-10T12:30:00Z" }),
          message({ id: "5", senderId: "b", createdAt: "2025-03-11T09:00:00Z" }),
        ],
      ],
      live: [],
      outbox: [],
    });
    const laid = layOut(items, { timeZone: "UTC" });
    expect(laid.map((l) => l.startsGroup)).toEqual([true, false, true, true, true]);
    expect(laid.map((l) => l.endsGroup)).toEqual([false, true, true, true, true]);
    expect(laid.map((l) => l.startsDay)).toEqual([true, false, false, false, true]);
  });
});

describe("firstUnreadKey", () => {
  const timeline = (...ms: [string, string][]) =>
    buildTimeline({ pages: [ms.map(([id, senderId]) => message({ id, senderId, clientMessageId: `c${id}` }))], live: [], outbox: [] });

  it("puts the line above the first message from someone else after the pointer", () => {
    const items = timeline(["1", "b"], ["2", "a"], ["3", "a"], ["4", "b"]);
    expect(firstUnreadKey(items, "1", "a", false)).toBe(items[3]?.key);
    expect(firstUnreadKey(items, "4", "a", false)).toBeNull();
  });

  it("puts it above the very first message only when the beginning of the conversation is loaded", () => {
    const items = timeline(["5", "b"], ["6", "b"]);
    expect(firstUnreadKey(items, null, "a", true)).toBe(items[0]?.key);
    expect(firstUnreadKey(items, null, "a", false)).toBeNull();
    expect(firstUnreadKey(items, "2", "a", false)).toBeNull();
  });
});

describe("lastEditableIndex", () => {
  it("finds the reader's own last stored message that is not deleted (Up in the empty composer edits it)", () => {
    const items = buildTimeline({
      pages: [
        [
          message({ id: "1", senderId: "a", clientMessageId: "c1" }),
          message({ id: "2", senderId: "a", clientMessageId: "c2" }),
          message({ id: "3", senderId: "a", clientMessageId: "c3", deletedAt: "2025-03-10T12:01:00.000Z", content: "" }),
          message({ id: "4", senderId: "b", clientMessageId: "c4" }),
        ],
      ],
      live: [],
      outbox: [],
    });
    expect(lastEditableIndex(items, "a")).toBe(1);
    expect(lastEditableIndex(items, "b")).toBe(3);
    expect(lastEditableIndex(items, "c")).toBe(-1);
  });

  it("passes over one's message still being sent: it cannot be edited yet", () => {
    const items = buildTimeline({
      pages: [[message({ id: "1", senderId: "a", clientMessageId: "c1" })]],
      live: [],
      outbox: [
        { clientMessageId: "c9", conversationId: "c1", senderId: "a", content: "on its way", createdAt: "2025-03-10T12:05:00.000Z", status: "pending", inFlight: true, attempts: 0, retryAt: null, error: null, message: null },
      ],
    });
    expect(items).toHaveLength(2);
    expect(lastEditableIndex(items, "a")).toBe(0);
  });
});

describe("addresses", () => {
  it("reads and writes the conversation in the URL hash", () => {
    expect(parseRoute(routeHash({ view: "conversation", conversationId: "c 1/x" }))).toEqual({ view: "conversation", conversationId: "c 1/x" });
    expect(parseRoute("#/")).toEqual({ view: "home" });
    expect(parseRoute("#/c/%E0%A4%A")).toEqual({ view: "home" });
  });

  it("reads and writes the open thread after its conversation", () => {
    const route = { view: "conversation", conversationId: "c1", threadId: "42" } as const;
    expect(routeHash(route)).toBe("#/c/c1/t/42");
    expect(parseRoute("#/c/c1/t/42")).toEqual(route);
    expect(routeHash({ view: "conversation", conversationId: "c1" })).toBe("#/c/c1");
    expect(parseRoute("#/c/c1/t/")).toEqual({ view: "home" });
    expect(parseRoute("#/c/c1/x/42")).toEqual({ view: "home" });
    expect(parseRoute("#/c/c1/t/%E0%A4%A")).toEqual({ view: "home" });
  });

  it("asks for a thread's root as the one message before the id after it", () => {
    expect(threadRootInput("c1", "41")).toEqual({ conversationId: "c1", cursor: "42", limit: 1 });
    expect(threadRootInput("c1", "99")).toMatchObject({ cursor: "100" });
    expect(threadRootInput("c1", "9223372036854775806")).toMatchObject({ cursor: "9223372036854775807" });
    // No message can have these ids: nothing to ask.
    expect(threadRootInput("c1", "9223372036854775807")).toBeNull();
    expect(threadRootInput("c1", "abc")).toBeNull();
    expect(threadRootInput("c1", "007")).toBeNull();
  });
});

describe("estimateRowHeight", () => {
  const row = (content: string, startsDay = false, startsGroup = false) => ({
    item: buildTimeline({ pages: [[message({ id: "1", content })]], live: [], outbox: [] })[0]!,
    startsDay,
    startsGroup,
    endsGroup: true,
  });

  it("grows with the lines of the text and with the headings a row carries", () => {
    const one = estimateRowHeight(row("hi"));
    expect(estimateRowHeight(row("a\nb\nc"))).toBeGreaterThan(one);
    expect(estimateRowHeight(row("x".repeat(300)))).toBeGreaterThan(one);
    expect(estimateRowHeight(row("hi", false, true))).toBeGreaterThan(one);
    expect(estimateRowHeight(row("hi", true, true))).toBeGreaterThan(estimateRowHeight(row("hi", false, true)));
    expect(estimateRowHeight(undefined)).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { badgeText, describeUnread, documentTitle, totalUnread, unreadCounts } from "../src/lib/unread";
import { fromList, type Conversation } from "@parley/client";

const alice = { id: "a", username: "alice", fullName: "Alice Liddell", role: "owner" as const, lastReadMessageId: null };
const bob = { id: "b", username: "bob", fullName: "", role: "member" as const, lastReadMessageId: null };

function conversation(overrides: Partial<Conversation>): Conversation {
  return { id: "c1", title: null, isDirect: true, members: [alice, bob], memberCount: 2, lastMessage: null, createdAt: "2025-03-01T00:00:00.000Z", lastReadMessageId: null, unreadCount: 0, mentionCount: 0, notify: "all", ...overrides };
}

describe("unread counts", () => {
  it("takes the store's counts over the list entry's, which may be older", () => {
    const listed = conversation({ unreadCount: 5, mentionCount: 2 });
    const known = fromList([conversation({ unreadCount: 1, mentionCount: 0 })]);
    expect(unreadCounts(listed, known)).toEqual({ unread: 1, mentions: 0 });
    expect(unreadCounts(listed, new Map())).toEqual({ unread: 5, mentions: 2 });
  });

  it("says the badges in words", () => {
    expect(describeUnread({ unread: 0, mentions: 0 })).toBe("");
    expect(describeUnread({ unread: 3, mentions: 0 })).toBe("3 unread");
    expect(describeUnread({ unread: 3, mentions: 1 })).toBe("3 unread, 1 mention");
    expect(describeUnread({ unread: 4, mentions: 2 })).toBe("4 unread, 2 mentions");
  });

  it("stops a badge at 99+", () => {
    expect(badgeText(99)).toBe("99");
    expect(badgeText(100)).toBe("99+");
  });

  it("totals every conversation the store knows once it has them all, else the listed ones", () => {
    const listed = [conversation({ id: "c1", unreadCount: 2 })];
    const known = fromList([conversation({ id: "c1", unreadCount: 1 }), conversation({ id: "c2", unreadCount: 4 })]);
    expect(totalUnread(listed, known, true)).toBe(5);
    expect(totalUnread(listed, known, false)).toBe(1);
    expect(totalUnread(listed, new Map(), false)).toBe(2);
  });

  it("counts each conversation in the total by the reader's level: all, mentions only, or nothing when muted", () => {
    const listed = [
      conversation({ id: "a", unreadCount: 4, mentionCount: 1, notify: "all" }),
      conversation({ id: "m", unreadCount: 6, mentionCount: 2, notify: "mentions" }),
      conversation({ id: "n", unreadCount: 9, mentionCount: 3, notify: "none" }),
    ];
    expect(totalUnread(listed, new Map(), false)).toBe(6);
  });

  it("puts the total in the tab title", () => {
    expect(documentTitle(0)).toBe("Parley");
    expect(documentTitle(3)).toBe("(3) Parley");
  });
});

import { describe, expect, it } from "vitest";
import { notificationContent, shouldNotify } from "../src/lib/notifications";
import type { Conversation, Message } from "@parley/client";

const me = { id: "me", username: "kim", fullName: "Kim Yoon", role: "member" as const, lastReadMessageId: null };
const lena = { id: "l", username: "lena", fullName: "Lena Berg", role: "owner" as const, lastReadMessageId: null };

function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return { id: "c1", title: null, isDirect: true, members: [me, lena], memberCount: 2, lastMessage: null, createdAt: "2025-03-01T00:00:00.000Z", lastReadMessageId: null, unreadCount: 0, mentionCount: 0, notify: "all", ...overrides };
}

function message(overrides: Partial<Message> = {}): Message {
  return {
    id: "10", conversationId: "c1", senderId: "l", content: "hello", clientMessageId: "x", createdAt: "2025-03-10T12:00:00.000Z", mentions: [],
    editedAt: null, deletedAt: null, threadId: null, replyCount: 0, lastReplyAt: null, reactions: [], attachments: [], ...overrides,
  };
}

describe("shouldNotify", () => {
  it("at 'all': every direct message, and mentions in a group", () => {
    expect(shouldNotify(message(), conversation(), "me")).toBe(true);
    expect(shouldNotify(message(), conversation({ isDirect: false, title: "Team" }), "me")).toBe(false);
    expect(shouldNotify(message({ mentions: ["me"] }), conversation({ isDirect: false, title: "Team" }), "me")).toBe(true);
  });

  it("at 'mentions': only mentions, in a direct conversation too; at 'none': nothing", () => {
    expect(shouldNotify(message(), conversation({ notify: "mentions" }), "me")).toBe(false);
    expect(shouldNotify(message({ mentions: ["me"] }), conversation({ notify: "mentions" }), "me")).toBe(true);
    expect(shouldNotify(message({ mentions: ["me"] }), conversation({ notify: "none" }), "me")).toBe(false);
  });

  it("never for the reader's own messages", () => {
    expect(shouldNotify(message({ senderId: "me" }), conversation(), "me")).toBe(false);
  });
});

describe("notificationContent", () => {
  it("names the sender (and the group) and shows the text without Markdown marks", () => {
    expect(notificationContent(message({ content: "**ship** it" }), conversation(), "me")).toEqual({ title: "Lena Berg", body: "ship it" });
    expect(notificationContent(message(), conversation({ isDirect: false, title: "Team" }), "me").title).toBe("Lena Berg in Team");
  });
});

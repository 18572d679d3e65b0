// The feed entries issue 13 added, as each recipient sees them: a recount reaches only the members
// it names, each as their own read.updated with counts; a conversation event for some members only
// (a notification level) reaches those; every member's view carries their own level. And how log
// rows become entries: a reader's read.updated (counts for the reader only), rows without data
// (stored before it existed), and rows whose message or conversation is gone.
import type { LoggedEvent } from "@parley/db";
import { describe, expect, it } from "vitest";
import { entryOf, viewFor, type FeedEntry, type SharedConversation } from "../src/live/feed.js";
import { messageDto } from "./helpers.js";

const conversation: SharedConversation = { id: "c1", title: "Team", isDirect: false, members: [], createdAt: "2030-01-01T00:00:00.000Z", memberCount: 3, lastMessage: null };

function logged(overrides: Partial<LoggedEvent>): LoggedEvent {
  return { id: 7n, kind: "read.updated", conversationId: "c1", messageId: null, userId: null, data: null, createdAt: new Date(0), ...overrides };
}

describe("feed views of message changes", () => {
  it("a read.updated without a reader is a recount: each named member gets their own counts, nobody else anything", () => {
    const entry = entryOf(logged({ messageId: 5n, data: JSON.stringify({ reads: { bob: { lastReadMessageId: "3", unreadCount: 1, mentionCount: 0 } } }) }), {
      messages: new Map(),
      conversations: new Map(),
    });
    expect(entry).toEqual({ kind: "read.recounted", id: "7", conversationId: "c1", reads: { bob: { lastReadMessageId: "3", unreadCount: 1, mentionCount: 0 } } });
    const recount = entry as FeedEntry;
    expect(viewFor(recount, "bob")).toEqual({ type: "read.updated", conversationId: "c1", userId: "bob", lastReadMessageId: "3", unreadCount: 1, mentionCount: 0 });
    expect(viewFor(recount, "alice")).toBeNull();
  });

  it("a conversation event with `to` reaches those members only, and each view carries the member's own level", () => {
    const data = { reads: {}, added: [], removed: [], notify: { bob: "none" }, to: ["bob"] };
    const entry = entryOf(logged({ kind: "conversation.updated", userId: "bob", data: JSON.stringify(data) }), { messages: new Map(), conversations: new Map([["c1", conversation]]) });
    if (!entry) throw new Error("no entry");
    expect(viewFor(entry, "bob")).toMatchObject({ type: "conversation.updated", conversation: { id: "c1", notify: "none", unreadCount: 0 } });
    expect(viewFor(entry, "alice")).toBeNull();
    // Events stored before levels existed: everyone is at "all".
    const old = entryOf(logged({ kind: "conversation.updated", userId: "bob", data: JSON.stringify({ reads: {}, added: [], removed: [] }) }), {
      messages: new Map(),
      conversations: new Map([["c1", conversation]]),
    });
    if (!old) throw new Error("no entry");
    expect(viewFor(old, "alice")).toMatchObject({ conversation: { notify: "all" } });
  });
});

describe("feed views of reads and conversations", () => {
  const read = { lastReadMessageId: "4", unreadCount: 2, mentionCount: 1 };

  it("a reader's read.updated carries the counts to the reader only; the others get the receipt", () => {
    const entry = entryOf(logged({ userId: "bob", data: JSON.stringify(read) }), { messages: new Map(), conversations: new Map() });
    expect(entry).toEqual({ kind: "read.updated", id: "7", conversationId: "c1", userId: "bob", read });
    if (!entry) throw new Error("no entry");
    expect(viewFor(entry, "bob")).toEqual({ type: "read.updated", conversationId: "c1", userId: "bob", ...read });
    expect(viewFor(entry, "alice")).toEqual({ type: "read.updated", conversationId: "c1", userId: "bob", lastReadMessageId: "4" });
  });

  it("a reader's read.updated stored without data reads as nothing read", () => {
    const entry = entryOf(logged({ userId: "bob" }), { messages: new Map(), conversations: new Map() });
    expect(entry).toEqual({ kind: "read.updated", id: "7", conversationId: "c1", userId: "bob", read: { lastReadMessageId: null, unreadCount: 0, mentionCount: 0 } });
  });

  it("a conversation event stored without data reaches every member at level all, and removes nobody", () => {
    const entry = entryOf(logged({ kind: "conversation.updated", userId: "bob" }), { messages: new Map(), conversations: new Map([["c1", conversation]]) });
    expect(entry).toEqual({ kind: "conversation.updated", id: "7", conversationId: "c1", conversation, reads: {}, removed: [], notify: {}, to: null });
    if (!entry) throw new Error("no entry");
    expect(viewFor(entry, "alice")).toEqual({ type: "conversation.updated", conversation: { ...conversation, lastReadMessageId: null, unreadCount: 0, mentionCount: 0, notify: "all" } });
  });

  it("a conversation event of a conversation that is gone reaches only those it removed", () => {
    const data = { reads: {}, added: [], removed: ["bob"] };
    const entry = entryOf(logged({ kind: "conversation.updated", userId: "bob", data: JSON.stringify(data) }), { messages: new Map(), conversations: new Map() });
    if (!entry) throw new Error("no entry");
    expect(viewFor(entry, "bob")).toEqual({ type: "conversation.removed", conversationId: "c1" });
    expect(viewFor(entry, "alice")).toBeNull();
  });

  it("a message event carries the message as it is now; one whose row names no message, or a message that is gone, is nothing to tell", () => {
    const message = messageDto(5, { conversationId: "c1" });
    const referents = { messages: new Map([["5", message]]), conversations: new Map() };
    const created = entryOf(logged({ kind: "message.created", messageId: 5n }), referents);
    expect(created).toEqual({ kind: "message.created", id: "7", message });
    const updated = entryOf(logged({ kind: "message.updated", messageId: 5n }), referents);
    if (!created || !updated) throw new Error("no entry");
    expect([viewFor(created, "bob"), viewFor(updated, "bob")]).toEqual([
      { type: "message.created", message },
      { type: "message.updated", message },
    ]);
    expect(entryOf(logged({ kind: "message.created", messageId: 6n }), referents)).toBeNull();
    expect(entryOf(logged({ kind: "message.updated", messageId: null }), referents)).toBeNull();
  });
});

// message.updated from sync.events (edits, deletions, reactions, reply counts) and the read state a
// delete or an edit recounts, applied to what the client holds - by the rules of
// docs/contract-changes.md. A resumed client replays the events in order and ends with final states.
import { describe, expect, it } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import { enqueue } from "../src/chat/outbox";
import { buildTimeline } from "../src/chat/timeline";
import type { Conversation, FeedEvent, Message } from "../src/types";
import { conversation, message } from "./helpers";

function loadedStore(list: Conversation[] = [conversation()]) {
  const store = new ChatStore("me", true);
  store.beginReload();
  store.finishReload(list);
  return store;
}

const created = (m: Message): FeedEvent => ({ type: "message.created", message: m });
const updated = (m: Message): FeedEvent => ({ type: "message.updated", message: m });
const timelineOf = (store: ChatStore, pages: Message[][] = [], threadId: string | null = null) =>
  buildTimeline({ pages, live: store.liveMessages("c1"), outbox: store.getState().outbox, changed: store.getState().changed, threadId });

describe("message.updated", () => {
  it("replaces a live message where it stands, so the timeline shows the edit", () => {
    const store = loadedStore();
    store.applyEvent(created(message({ id: "10", senderId: "alice", content: "helo" })), "10");
    store.applyEvent(created(message({ id: "11", senderId: "alice", content: "next" })), "11");
    store.applyEvent(updated(message({ id: "10", senderId: "alice", content: "hello", editedAt: "2025-03-10T12:01:00.000Z" })), "12");
    const items = timelineOf(store);
    expect(items.map((i) => [i.id, i.content])).toEqual([
      ["10", "hello"],
      ["11", "next"],
    ]);
    expect(items[0]?.message?.editedAt).toBe("2025-03-10T12:01:00.000Z");
  });

  it("replaces the version a history page loaded earlier holds", () => {
    const store = loadedStore();
    const page = [message({ id: "3", content: "secret" }), message({ id: "4" })];
    store.applyEvent(updated(message({ id: "3", content: "", deletedAt: "2025-03-10T12:02:00.000Z" })), "20");
    const items = timelineOf(store, [page]);
    expect(items[0]).toMatchObject({ id: "3", content: "" });
    expect(items[0]?.message?.deletedAt).toBe("2025-03-10T12:02:00.000Z");
  });

  it("keeps the last of several changes of one message, as a resume replays them in order", () => {
    const store = loadedStore();
    const m = message({ id: "5", senderId: "alice", content: "a" });
    store.applyEvent(updated({ ...m, reactions: [{ emoji: "👍", count: 1, userIds: ["me"] }] }), "6");
    store.applyEvent(updated({ ...m, content: "b", editedAt: "2025-03-10T12:03:00.000Z", reactions: [{ emoji: "👍", count: 2, userIds: ["me", "bob"] }] }), "7");
    store.applyEvent(updated({ ...m, content: "", deletedAt: "2025-03-10T12:04:00.000Z" }), "8");
    const [item] = timelineOf(store, [[m]]);
    expect(item?.content).toBe("");
    expect(item?.message?.reactions).toEqual([]);
    expect(item?.message?.deletedAt).not.toBeNull();
  });

  it("shows the root's reply count and keeps replies out of the main list, in their thread's", () => {
    const store = loadedStore();
    const root = message({ id: "10", senderId: "alice" });
    store.applyEvent(created(root), "10");
    store.applyEvent(created(message({ id: "11", senderId: "bob", threadId: "10" })), "11");
    store.applyEvent(updated({ ...root, replyCount: 1, lastReplyAt: "2025-03-10T12:05:00.000Z" }), "12");
    expect(timelineOf(store).map((i) => [i.id, i.message?.replyCount])).toEqual([["10", 1]]);
    expect(timelineOf(store, [], "10").map((i) => i.id)).toEqual(["11"]);
  });

  it("puts one's own unsent reply in its thread only", () => {
    const store = loadedStore();
    store.updateOutbox((o) => enqueue(o, { clientMessageId: "r1", conversationId: "c1", threadId: "10", senderId: "me", content: "reply", createdAt: "2025-03-10T12:05:00.000Z" }));
    expect(timelineOf(store)).toEqual([]);
    expect(timelineOf(store, [], "10").map((i) => [i.content, i.status])).toEqual([["reply", "pending"]]);
  });

  it("changes the conversation's last message (the list's preview) when it is the one changed, and no other", () => {
    const last = message({ id: "9", senderId: "alice", content: "original" });
    const store = loadedStore([conversation({ lastMessage: last })]);
    store.applyEvent(updated(message({ id: "8", senderId: "alice", content: "older, edited" })), "10");
    expect(store.conversation("c1")?.lastMessage?.content).toBe("original");
    store.applyEvent(updated({ ...last, content: "", deletedAt: "2025-03-10T12:06:00.000Z" }), "11");
    expect(store.conversation("c1")?.lastMessage).toMatchObject({ id: "9", content: "", deletedAt: "2025-03-10T12:06:00.000Z" });
  });

  it("changes the newest live message of a conversation, which the list previews", () => {
    const store = loadedStore();
    store.applyEvent(created(message({ id: "12", senderId: "alice", content: "typo" })), "12");
    store.applyEvent(updated(message({ id: "12", senderId: "alice", content: "fixed" })), "13");
    expect(store.getState().latest.get("c1")?.content).toBe("fixed");
  });
});

describe("changes held across membership and reloads", () => {
  it("forgets the changes of a conversation the reader is taken out of, so a page loaded after rejoining wins", () => {
    const store = loadedStore();
    store.applyEvent(updated(message({ id: "5", content: "first edit" })), "6");
    store.applyEvent({ type: "conversation.removed", conversationId: "c1" }, "7");
    const [item] = timelineOf(store, [[message({ id: "5", content: "edited while away" })]]);
    expect(item?.content).toBe("edited while away");
  });

  it("forgets held changes when the feed lost its position and the state is loaded afresh", () => {
    const store = loadedStore();
    store.applyEvent(updated(message({ id: "5", content: "old" })), "6");
    store.beginReload();
    expect(store.getState().changed.size).toBe(0);
  });
});

describe("read state after a delete or an edit", () => {
  const counts = (store: ChatStore) => {
    const c = store.conversation("c1");
    return c && { unread: c.unreadCount, mentions: c.mentionCount, pointer: c.lastReadMessageId };
  };

  it("takes the recounted counts of the reader's own read.updated at an unchanged pointer", () => {
    const store = loadedStore([conversation({ lastReadMessageId: "5", unreadCount: 2, mentionCount: 1, lastMessage: message({ id: "7", senderId: "alice" }) })]);
    // Message 7 (a mention, unread) is deleted: its message.updated, then the recount.
    store.applyEvent(updated(message({ id: "7", senderId: "alice", content: "", deletedAt: "2025-03-10T12:07:00.000Z" })), "8");
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "5", unreadCount: 1, mentionCount: 0 }, "9");
    expect(counts(store)).toEqual({ unread: 1, mentions: 0, pointer: "5" });
  });

  it("does not take a recount the list loaded after it already includes", () => {
    // The list was loaded after the recount (9) and after a later message (10) it counted.
    const store = new ChatStore("me", true);
    store.beginReload();
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "5", unreadCount: 1, mentionCount: 0 }, "9");
    store.applyEvent(created(message({ id: "10", senderId: "alice" })), "10");
    store.finishReload([conversation({ lastReadMessageId: "5", unreadCount: 2, mentionCount: 0, lastMessage: message({ id: "10", senderId: "alice" }) })]);
    expect(counts(store)).toEqual({ unread: 2, mentions: 0, pointer: "5" });
  });

  it("counts on from a recount: a later message adds to it", () => {
    const store = loadedStore([conversation({ lastReadMessageId: "5", unreadCount: 3, lastMessage: message({ id: "8", senderId: "alice" }) })]);
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "5", unreadCount: 2, mentionCount: 0 }, "9");
    store.applyEvent(created(message({ id: "10", senderId: "alice", mentions: ["me"] })), "10");
    expect(counts(store)).toEqual({ unread: 3, mentions: 1, pointer: "5" });
  });
});

// The chat store's read state and membership, driven by fabricated sync.events events, against the
// rules of docs/contract-changes.md ("The event feed, membership and read state").
import { describe, expect, it, vi } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import type { Conversation, FeedEvent, Message } from "../src/types";
import { conversation, message } from "./helpers";

// The pace between calls is tested on its own below; here calls follow as soon as answers come.
function loadedStore(list: Conversation[] = [conversation()], markRead?: (c: string, m: string) => Promise<unknown>, readPaceMs = 0) {
  const store = new ChatStore("me", true, markRead ? { markRead, readPaceMs } : {});
  store.beginReload();
  store.finishReload(list);
  return store;
}

const created = (m: Message): FeedEvent => ({ type: "message.created", message: m });
const counts = (store: ChatStore, id = "c1") => {
  const c = store.conversation(id);
  return c && { unread: c.unreadCount, mentions: c.mentionCount, pointer: c.lastReadMessageId };
};

describe("read state from sync.events", () => {
  it("adds one for a message from someone else after the pointer, and one mention when it names the reader", () => {
    const store = loadedStore();
    store.applyEvent(created(message({ id: "10", senderId: "alice" })), "10");
    store.applyEvent(created(message({ id: "11", senderId: "alice", mentions: ["me"] })), "11");
    store.applyEvent(created(message({ id: "12", senderId: "alice", mentions: ["bob"] })), "12");
    expect(counts(store)).toEqual({ unread: 3, mentions: 1, pointer: null });
  });

  it("resets both counts to 0 with the pointer at the reader's own message", () => {
    const store = loadedStore([conversation({ unreadCount: 4, mentionCount: 2, lastReadMessageId: "3", lastMessage: message({ id: "9" }) })]);
    store.applyEvent(created(message({ id: "20", senderId: "me" })), "20");
    expect(counts(store)).toEqual({ unread: 0, mentions: 0, pointer: "20" });
  });

  it("does not count a message at or below what the list already counted", () => {
    const store = loadedStore([conversation({ unreadCount: 2, lastMessage: message({ id: "15", senderId: "alice" }) })]);
    store.applyEvent(created(message({ id: "14", senderId: "alice" })), "14");
    store.applyEvent(created(message({ id: "15", senderId: "alice" })), "15");
    expect(counts(store)?.unread).toBe(2);
    store.applyEvent(created(message({ id: "16", senderId: "alice" })), "16");
    store.applyEvent(created(message({ id: "16", senderId: "alice" })), "16");
    expect(counts(store)?.unread).toBe(3);
  });

  it("takes the reader's own read.updated when its pointer is ahead, and ignores one behind it", () => {
    const store = loadedStore([conversation({ unreadCount: 5, mentionCount: 1, lastReadMessageId: "10", lastMessage: message({ id: "15" }) })]);
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "8", unreadCount: 9, mentionCount: 9 }, "16");
    expect(counts(store)).toEqual({ unread: 5, mentions: 1, pointer: "10" });
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "13", unreadCount: 2, mentionCount: 0 }, "17");
    expect(counts(store)).toEqual({ unread: 2, mentions: 0, pointer: "13" });
  });

  it("ignores someone else's read receipt", () => {
    const store = loadedStore([conversation({ unreadCount: 1, lastMessage: message({ id: "5", senderId: "alice" }) })]);
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "alice", lastReadMessageId: "5" }, "6");
    expect(counts(store)).toEqual({ unread: 1, mentions: 0, pointer: null });
  });

  it("takes every field of conversation.updated for a new conversation, and counts only messages after that event", () => {
    const store = loadedStore([]);
    // A replayed event shows the conversation's last message as it is now (30), later than the event (20).
    const added = conversation({ id: "c2", lastReadMessageId: "19", unreadCount: 0, lastMessage: message({ id: "30", conversationId: "c2" }) });
    store.applyEvent({ type: "conversation.updated", conversation: added }, "20");
    store.applyEvent(created(message({ id: "25", conversationId: "c2", senderId: "alice" })), "25");
    store.applyEvent(created(message({ id: "30", conversationId: "c2", senderId: "alice", mentions: ["me"] })), "30");
    expect(counts(store, "c2")).toEqual({ unread: 2, mentions: 1, pointer: "19" });
  });

  it("follows membership and title from conversation.updated for a known conversation, keeping its own counts", () => {
    const store = loadedStore([conversation({ unreadCount: 3, lastReadMessageId: "4", lastMessage: message({ id: "8", senderId: "alice" }) })]);
    const members = [...conversation().members, { id: "bob", username: "bob", fullName: "", role: "member" as const, lastReadMessageId: null }];
    store.applyEvent({ type: "conversation.updated", conversation: conversation({ title: "renamed", members, memberCount: 3, unreadCount: 0, lastReadMessageId: null }) }, "9");
    expect(store.conversation("c1")).toMatchObject({ title: "renamed", memberCount: 3, unreadCount: 3, lastReadMessageId: "4" });
    expect(store.conversation("c1")?.members.map((m) => m.id)).toEqual(["me", "alice", "bob"]);
  });

  it("drops a conversation on conversation.removed, and counts it afresh when the reader is added back", () => {
    const store = loadedStore([conversation({ unreadCount: 3 })]);
    store.applyEvent({ type: "conversation.removed", conversationId: "c1" }, "9");
    expect(store.conversation("c1")).toBeNull();
    store.applyEvent(created(message({ id: "10", senderId: "alice" })), "10");
    expect(store.conversation("c1")).toBeNull();
    store.applyEvent({ type: "conversation.updated", conversation: conversation({ lastReadMessageId: "10", unreadCount: 0 }) }, "11");
    store.applyEvent(created(message({ id: "12", senderId: "alice" })), "12");
    expect(counts(store)).toEqual({ unread: 1, mentions: 0, pointer: "10" });
  });

  it("applies events that arrived while conversation.list loaded on top of it, each once", () => {
    const store = new ChatStore("me", true);
    store.beginReload();
    // Before the list's snapshot: already in it.
    store.applyEvent(created(message({ id: "10", senderId: "alice" })), "10");
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "10", unreadCount: 0, mentionCount: 0 }, "11");
    // After it: news.
    store.applyEvent(created(message({ id: "12", senderId: "alice", mentions: ["me"] })), "12");
    store.applyEvent({ type: "conversation.updated", conversation: conversation({ title: "later", lastReadMessageId: null, unreadCount: 7 }) }, "13");
    expect(store.getState().conversationsLoaded).toBe(false);
    store.finishReload([conversation({ lastReadMessageId: "10", unreadCount: 0, lastMessage: message({ id: "10", senderId: "alice" }) })]);
    expect(store.getState().conversationsLoaded).toBe(true);
    expect(counts(store)).toEqual({ unread: 1, mentions: 1, pointer: "10" });
    expect(store.conversation("c1")?.title).toBe("later");
    // The messages themselves were shown at once.
    expect(store.liveMessages("c1").map((m) => m.id)).toEqual(["10", "12"]);
  });

  it("tells subscribers of each change, and keeps the map's identity when nothing changed", () => {
    const store = loadedStore([conversation({ lastMessage: message({ id: "5", senderId: "alice" }), unreadCount: 1 })]);
    const listener = vi.fn();
    store.subscribe(listener);
    const before = store.getState().conversations;
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "alice", lastReadMessageId: "5" }, "6");
    expect(store.getState().conversations).toBe(before);
    store.applyEvent(created(message({ id: "7", senderId: "alice" })), "7");
    expect(listener).toHaveBeenCalled();
    expect(store.getState().conversations).not.toBe(before);
  });
});

describe("markRead", () => {
  it("asks the server only for a message ahead of the pointer, and once per id while it is asked", async () => {
    const calls: string[] = [];
    let answer: () => void = () => undefined;
    const store = loadedStore([conversation({ lastReadMessageId: "10", unreadCount: 2, lastMessage: message({ id: "12", senderId: "alice" }) })], (c, m) => {
      calls.push(`${c}:${m}`);
      return new Promise<void>((resolve) => (answer = resolve));
    });
    await store.markRead("c1", "9");
    await store.markRead("c1", "10");
    const first = store.markRead("c1", "12");
    await store.markRead("c1", "11");
    await store.markRead("c1", "12");
    await store.markRead("other", "99");
    expect(calls).toEqual(["c1:12"]);
    answer();
    await first;
    // The server's read.updated moves the pointer; from then on the id is behind it.
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "12", unreadCount: 0, mentionCount: 0 }, "13");
    await store.markRead("c1", "12");
    expect(calls).toEqual(["c1:12"]);
    expect(counts(store)).toEqual({ unread: 0, mentions: 0, pointer: "12" });
  });

  it("asks what was read while a call waits as one call, for the furthest message, when the answer comes", async () => {
    const calls: string[] = [];
    const answers: (() => void)[] = [];
    const store = loadedStore([conversation({ lastReadMessageId: "10", unreadCount: 9, lastMessage: message({ id: "20", senderId: "alice" }) })], (c, m) => {
      calls.push(`${c}:${m}`);
      return new Promise<void>((resolve) => answers.push(resolve));
    });
    const settled: string[] = [];
    const track = (id: string) => void store.markRead("c1", id).then(() => settled.push(id));
    track("12");
    track("13");
    track("15");
    track("14");
    await Promise.resolve();
    expect(calls).toEqual(["c1:12"]);
    answers[0]?.();
    await vi.waitFor(() => expect(calls).toEqual(["c1:12", "c1:15"]));
    // 12 is answered; 13, 14 and 15 wait for the call that covers them.
    expect(settled).toEqual(["12"]);
    track("16");
    answers[1]?.();
    await vi.waitFor(() => expect(calls).toEqual(["c1:12", "c1:15", "c1:16"]));
    expect(settled.sort()).toEqual(["12", "13", "14", "15"]);
    answers[2]?.();
    await vi.waitFor(() => expect(settled).toContain("16"));
    // Nothing waits now: the next one is asked at once.
    track("17");
    await vi.waitFor(() => expect(calls).toHaveLength(4));
    expect(calls[3]).toBe("c1:17");
  });

  it("does not ask for a waiting message once the pointer has passed it (read in another tab)", async () => {
    const calls: string[] = [];
    let answer: () => void = () => undefined;
    const store = loadedStore([conversation({ lastReadMessageId: "10", unreadCount: 9, lastMessage: message({ id: "20", senderId: "alice" }) })], (c, m) => {
      calls.push(`${c}:${m}`);
      return new Promise<void>((resolve) => (answer = resolve));
    });
    const first = store.markRead("c1", "12");
    const waiting = store.markRead("c1", "15");
    store.applyEvent({ type: "read.updated", conversationId: "c1", userId: "me", lastReadMessageId: "18", unreadCount: 2, mentionCount: 0 }, "21");
    answer();
    await first;
    await waiting;
    expect(calls).toEqual(["c1:12"]);
  });

  it("still asks for a waiting message when the call before it failed", async () => {
    const calls: string[] = [];
    const store = loadedStore([conversation({ lastReadMessageId: "10", unreadCount: 9, lastMessage: message({ id: "20", senderId: "alice" }) })], async (c, m) => {
      calls.push(`${c}:${m}`);
      if (m === "12") throw new Error("offline");
    });
    const first = store.markRead("c1", "12");
    const waiting = store.markRead("c1", "15");
    await expect(first).rejects.toThrow("offline");
    await waiting;
    expect(calls).toEqual(["c1:12", "c1:15"]);
  });

  it("in a busy room asks at most once per pace: what is read meanwhile goes as one call when the time is up", async () => {
    const calls: string[] = [];
    const timers: (() => void)[] = [];
    const store = new ChatStore("me", true, {
      markRead: async (c, m) => void calls.push(`${c}:${m}`),
      setTimer: (run) => {
        timers.push(run);
        return () => undefined;
      },
    });
    store.beginReload();
    store.finishReload([
      conversation({ lastReadMessageId: "10", unreadCount: 9, lastMessage: message({ id: "20", senderId: "alice" }) }),
      conversation({ id: "c2", lastReadMessageId: null, unreadCount: 1, lastMessage: message({ id: "5", conversationId: "c2", senderId: "alice" }) }),
    ]);
    const first = store.markRead("c1", "12");
    await first;
    // Answered at once, but the pace has not passed: these wait, and go as one call for the furthest.
    const settled: string[] = [];
    for (const id of ["13", "15", "14"]) void store.markRead("c1", id).then(() => settled.push(id));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toEqual(["c1:12"]);
    expect(settled).toEqual([]);
    expect(timers).toHaveLength(1);
    timers[0]?.();
    await vi.waitFor(() => expect(calls).toEqual(["c1:12", "c1:15"]));
    await vi.waitFor(() => expect(settled.sort()).toEqual(["13", "14", "15"]));
    // Another conversation has its own pace: asked at once.
    await store.markRead("c2", "5");
    expect(calls).toEqual(["c1:12", "c1:15", "c2:5"]);
    // Once the pace after the last call has passed with nothing wanted, the next one goes at once.
    timers[1]?.();
    timers[2]?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await store.markRead("c1", "18");
    expect(calls).toEqual(["c1:12", "c1:15", "c2:5", "c1:18"]);
  });

  it("asks again after a failed call", async () => {
    let fail = true;
    const markRead = vi.fn(async () => {
      if (fail) throw new Error("offline");
    });
    const store = loadedStore([conversation({ lastMessage: message({ id: "3", senderId: "alice" }), unreadCount: 1 })], markRead);
    await expect(store.markRead("c1", "3")).rejects.toThrow("offline");
    fail = false;
    await store.markRead("c1", "3");
    expect(markRead).toHaveBeenCalledTimes(2);
  });
});

// Read receipts and the conversations the reader was taken out of, as the chat store keeps them.
import { describe, expect, it } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import { readBy } from "../src/chat/receipts";
import { conversation, message } from "./helpers";

function loadedStore(...list: ReturnType<typeof conversation>[]) {
  const store = new ChatStore("me", true);
  store.beginReload();
  store.finishReload(list.length > 0 ? list : [conversation()]);
  return store;
}

const receipt = (userId: string, lastReadMessageId: string | null, conversationId = "c1") =>
  ({ type: "read.updated", conversationId, userId, lastReadMessageId }) as const;

describe("read receipts", () => {
  it("keeps how far another member has read, forward only", () => {
    const store = loadedStore();
    store.applyEvent(receipt("alice", "20"), "30");
    store.applyEvent(receipt("alice", "12"), "31");
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("20");
    store.applyEvent(receipt("alice", "100"), "101");
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("100");
  });

  it("takes someone's own message as read up to it, and ignores the reader's own pointer", () => {
    const store = loadedStore();
    store.applyEvent({ type: "message.created", message: message({ id: "40", senderId: "alice" }) }, "40");
    store.applyEvent({ type: "message.created", message: message({ id: "41", senderId: "me" }) }, "41");
    store.applyEvent({ ...receipt("me", "41"), unreadCount: 0, mentionCount: 0 }, "42");
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("40");
    expect(readBy(store.getState().receipts, "c1", "me")).toBeNull();
  });

  it("keeps receipts that arrive while the conversation list loads", () => {
    const store = new ChatStore("me", true);
    store.beginReload();
    store.applyEvent(receipt("alice", "7"), "8");
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("7");
    store.finishReload([conversation()]);
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("7");
  });

  it("starts from the pointers the loaded members carry, and an older one does not move a receipt back", () => {
    const withPointer = (alicePointer: string | null) =>
      conversation({
        members: [
          { id: "me", username: "me", fullName: "", role: "owner", lastReadMessageId: "30" },
          { id: "alice", username: "alice", fullName: "", role: "member", lastReadMessageId: alicePointer },
        ],
      });
    const store = loadedStore(withPointer("25"));
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("25");
    expect(readBy(store.getState().receipts, "c1", "me")).toBeNull();
    store.applyEvent(receipt("alice", "28"), "31");
    store.applyEvent({ type: "conversation.updated", conversation: withPointer("26") }, "32");
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("28");
    store.applyEvent({ type: "conversation.updated", conversation: withPointer("29") }, "33");
    expect(readBy(store.getState().receipts, "c1", "alice")).toBe("29");
  });

  it("forgets a conversation's receipts when the reader leaves it", () => {
    const store = loadedStore();
    store.applyEvent(receipt("alice", "7"), "8");
    store.applyEvent({ type: "conversation.removed", conversationId: "c1" }, "9");
    expect(store.getState().receipts.size).toBe(0);
  });
});

describe("conversations the reader was taken out of", () => {
  it("marks a conversation removed, and unmarks it when the reader is added back", () => {
    const store = loadedStore();
    store.applyEvent({ type: "conversation.removed", conversationId: "c1" }, "10");
    expect(store.getState().removed.has("c1")).toBe(true);
    expect(store.conversation("c1")).toBeNull();
    store.applyEvent({ type: "conversation.updated", conversation: conversation() }, "11");
    expect(store.getState().removed.has("c1")).toBe(false);
    expect(store.conversation("c1")).not.toBeNull();
  });

  it("counts as removed what a reload after a lost position no longer lists", () => {
    const store = loadedStore(conversation(), conversation({ id: "c2" }));
    store.beginReload();
    store.finishReload([conversation({ id: "c2" })]);
    expect([...store.getState().removed]).toEqual(["c1"]);
  });

  it("counts nothing as removed on the first load", () => {
    const store = loadedStore(conversation({ id: "c2" }));
    expect(store.getState().removed.size).toBe(0);
  });
});

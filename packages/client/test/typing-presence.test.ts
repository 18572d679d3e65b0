// Typing and presence in the chat store, with a clock and timers the test moves by hand.
import { describe, expect, it } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import { TYPING_SHOWN_MS } from "../src/chat/typing";
import { conversation, message } from "./helpers";

/** A store whose clock and timers the test drives. */
function clockedStore() {
  let now = 1_000;
  const timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  const store = new ChatStore("me", true, {
    now: () => now,
    setTimer: (run, ms) => {
      const timer = { at: now + ms, run, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
  });
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.splice(0)) {
      if (timer.cancelled) continue;
      if (timer.at <= now) timer.run();
      else timers.push(timer);
    }
  };
  return { store, advance, pending: () => timers.filter((t) => !t.cancelled).length };
}

describe("typing", () => {
  it("shows a user typing for 6 s after their last typing event", () => {
    const { store, advance } = clockedStore();
    store.typingStarted("c1", "alice");
    expect(store.typingIn("c1")).toEqual(["alice"]);
    advance(4_000);
    store.typingStarted("c1", "alice");
    advance(TYPING_SHOWN_MS - 1);
    expect(store.typingIn("c1")).toEqual(["alice"]);
    advance(1);
    expect(store.typingIn("c1")).toEqual([]);
    expect(store.getState().typing.size).toBe(0);
  });

  it("stops showing a user typing when their message arrives, and only theirs", () => {
    const { store } = clockedStore();
    store.typingStarted("c1", "alice");
    store.typingStarted("c1", "bob");
    store.typingStarted("c2", "alice");
    store.applyEvent({ type: "message.created", message: message({ conversationId: "c1", senderId: "alice" }) }, "50");
    expect(store.typingIn("c1")).toEqual(["bob"]);
    expect(store.typingIn("c2")).toEqual(["alice"]);
  });

  it("never shows the reader as typing, and leaves no timer once nobody is", () => {
    const { store, advance, pending } = clockedStore();
    store.typingStarted("c1", "me");
    expect(store.typingIn("c1")).toEqual([]);
    store.typingStarted("c1", "alice");
    advance(TYPING_SHOWN_MS);
    expect(pending()).toBe(0);
  });
});

describe("presence", () => {
  it("keeps each user's latest status and tells subscribers only of changes", () => {
    const store = new ChatStore("me", true);
    let changes = 0;
    store.subscribe(() => (changes += 1));
    store.setPresence([
      { userId: "alice", status: "online" },
      { userId: "bob", status: "offline" },
    ]);
    store.setPresence([{ userId: "alice", status: "online" }]);
    store.setPresence([{ userId: "alice", status: "away" }]);
    expect(Object.fromEntries(store.getState().presence)).toEqual({ alice: "away", bob: "offline" });
    expect(changes).toBe(2);
  });

  it("names the people the reader shares a conversation with as contacts", () => {
    const store = new ChatStore("me", true);
    store.beginReload();
    const carol = { id: "carol", username: "carol", fullName: "", role: "member" as const, lastReadMessageId: null };
    store.finishReload([conversation(), conversation({ id: "c2", members: [...conversation().members, carol] })]);
    expect(store.contacts().sort()).toEqual(["alice", "carol"]);
  });
});

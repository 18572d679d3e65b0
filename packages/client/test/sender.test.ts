import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import { Sender, type SendInput } from "../src/chat/sender";
import { buildTimeline } from "../src/chat/timeline";
import type { Message } from "../src/types";
import { message } from "./helpers";

const offline = () => Object.assign(new TypeError("Failed to fetch"), { data: undefined });
const refused = (code: string) => Object.assign(new Error(code), { data: { code } });

/** A send whose outcome the test decides, one call at a time. */
function controlledSend() {
  const calls: { input: SendInput; resolve(m: Message): void; reject(e: unknown): void }[] = [];
  const send = (input: SendInput) =>
    new Promise<Message>((resolve, reject) => {
      calls.push({ input, resolve, reject });
    });
  return { calls, send };
}

function setup() {
  const store = new ChatStore("me", true);
  const { calls, send } = controlledSend();
  let n = 0;
  const sender = new Sender({ store, send, newClientMessageId: () => `cm-${++n}`, now: () => Date.now() });
  const timeline = () => buildTimeline({ pages: [], live: store.liveMessages("c1"), outbox: store.getState().outbox });
  const stored = (input: SendInput, id: string) => message({ id, conversationId: input.conversationId, senderId: "me", content: input.content, clientMessageId: input.clientMessageId });
  return { store, sender, calls, timeline, stored };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe("sending", () => {
  it("shows a message at once as pending, then as sent with its id", async () => {
    const { sender, calls, timeline, stored } = setup();
    sender.send("c1", "hello");
    expect(timeline()).toMatchObject([{ status: "pending", content: "hello", id: null }]);
    calls[0]!.resolve(stored(calls[0]!.input, "10"));
    await flush();
    expect(timeline()).toMatchObject([{ status: "sent", id: "10" }]);
  });

  it("shows it once when the live echo arrives before the response", async () => {
    const { store, sender, calls, timeline, stored } = setup();
    sender.send("c1", "hello");
    const echo = stored(calls[0]!.input, "10");
    store.receive(echo, { fromLive: true });
    calls[0]!.resolve(echo);
    await flush();
    expect(timeline().map((i) => i.id)).toEqual(["10"]);
    expect(store.getState().outbox).toEqual([]);
  });

  it("retries after a reconnect with the same clientMessageId, and shows the message once", async () => {
    const { sender, calls, timeline, stored } = setup();
    sender.send("c1", "hello");
    calls[0]!.reject(offline());
    await flush();
    expect(timeline()).toMatchObject([{ status: "pending" }]);
    sender.wake();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.input.clientMessageId).toBe(calls[0]!.input.clientMessageId);
    calls[1]!.resolve(stored(calls[1]!.input, "11"));
    await flush();
    expect(timeline()).toMatchObject([{ status: "sent", id: "11" }]);
    sender.stop();
  });

  it("sends the messages of a conversation one after another, in order", async () => {
    const { sender, calls, stored } = setup();
    sender.send("c1", "first");
    sender.send("c1", "second");
    expect(calls.map((c) => c.input.content)).toEqual(["first"]);
    calls[0]!.resolve(stored(calls[0]!.input, "1"));
    await flush();
    expect(calls.map((c) => c.input.content)).toEqual(["first", "second"]);
  });

  it("marks a refused message failed with the reason, and sends it again on retry", async () => {
    const { sender, calls, timeline } = setup();
    sender.send("c1", "hello");
    calls[0]!.reject(refused("FORBIDDEN"));
    await flush();
    expect(timeline()).toMatchObject([{ status: "failed", error: "Not sent: you are not a member of this conversation." }]);
    sender.retry(calls[0]!.input.clientMessageId);
    expect(calls).toHaveLength(2);
    expect(timeline()).toMatchObject([{ status: "pending", error: null }]);
  });

  it("can delete a failed message", async () => {
    const { sender, calls, timeline } = setup();
    sender.send("c1", "hello");
    calls[0]!.reject(refused("TOO_MANY_REQUESTS"));
    await flush();
    sender.discard(calls[0]!.input.clientMessageId);
    expect(timeline()).toEqual([]);
  });

  it("retries by itself after a while when no reconnect comes", async () => {
    vi.useFakeTimers();
    const { sender, calls } = setup();
    sender.send("c1", "hello");
    calls[0]!.reject(offline());
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toHaveLength(2);
    sender.stop();
  });
});

describe("sending too fast", () => {
  it("waits as long as the server asked, then sends the message by itself", async () => {
    vi.useFakeTimers();
    const { sender, calls, timeline, stored } = setup();
    sender.send("c1", "hello");
    calls[0]!.reject(Object.assign(new Error("slow down"), { data: { code: "TOO_MANY_REQUESTS", retryAfterSeconds: 8 } }));
    await vi.advanceTimersByTimeAsync(7_000);
    expect(calls).toHaveLength(1);
    expect(timeline()).toMatchObject([{ status: "pending", content: "hello" }]);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(stored(calls[1]!.input, "10"));
    await vi.advanceTimersByTimeAsync(0);
    expect(timeline()).toMatchObject([{ status: "sent", id: "10" }]);
    sender.stop();
  });
});

describe("ChatStore", () => {
  it("ignores a message it already has", () => {
    const store = new ChatStore("me", true);
    const m = message({ senderId: "bob" });
    expect(store.receive(m, { fromLive: true })).toBe(true);
    const before = store.getState();
    expect(store.receive(m, { fromLive: true })).toBe(false);
    expect(store.getState()).toBe(before);
  });

  it("keeps the newest message per conversation for the list, whatever order they arrive in", () => {
    const store = new ChatStore("me", true);
    store.receive(message({ id: "20", conversationId: "c1" }), { fromLive: true });
    store.receive(message({ id: "15", conversationId: "c1" }), { fromLive: false });
    expect(store.getState().latest.get("c1")?.id).toBe("20");
  });
});

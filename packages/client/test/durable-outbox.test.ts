import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatStore } from "../src/chat/chat-store";
import type { StoredEntry } from "../src/chat/outbox";
import { memoryOutboxStorage, type OutboxStorage } from "../src/chat/outbox-storage";
import { Sender, type SendInput } from "../src/chat/sender";
import { fileOutboxStorage } from "../src/node";
import type { Message } from "../src/types";
import { message } from "./helpers";

const offline = () => Object.assign(new TypeError("Failed to fetch"), { data: undefined });
const refused = (code: string) => Object.assign(new Error(code), { data: { code } });
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A storage that records what it holds, and hands out `leftovers` on the first claim. */
function recordingStorage(leftovers: StoredEntry[] = []) {
  const held = new Map<string, StoredEntry>(leftovers.map((e) => [e.clientMessageId, e]));
  let unclaimed = [...leftovers];
  const storage: OutboxStorage = {
    claim: async () => unclaimed.splice(0),
    save: async (entry) => void held.set(entry.clientMessageId, entry),
    remove: async (id) => void held.delete(id),
    clear: async () => {
      held.clear();
      unclaimed = [];
    },
  };
  return { storage, held };
}

function setup(storage: OutboxStorage) {
  const store = new ChatStore("me", true);
  const calls: { input: SendInput; resolve(m: Message): void; reject(e: unknown): void }[] = [];
  const send = (input: SendInput) => new Promise<Message>((resolve, reject) => void calls.push({ input, resolve, reject }));
  let n = 0;
  const sender = new Sender({ store, send, newClientMessageId: () => `new-${++n}`, now: () => Date.now(), storage });
  const stored = (input: SendInput, id: string) => message({ id, conversationId: input.conversationId, senderId: "me", content: input.content, clientMessageId: input.clientMessageId });
  return { store, sender, calls, stored };
}

const leftover = (clientMessageId: string, error: string | null = null): StoredEntry => ({
  clientMessageId,
  conversationId: "c1",
  senderId: "me",
  content: `left ${clientMessageId}`,
  createdAt: "2025-03-10T12:00:00.000Z",
  error,
});

afterEach(() => {
  vi.useRealTimers();
});

describe("a durable outbox", () => {
  it("keeps a message until the server has it, then forgets it", async () => {
    const { storage, held } = recordingStorage();
    const { sender, calls, stored } = setup(storage);
    await sender.start();
    sender.send("c1", "hello");
    await flush();
    expect([...held.values()].map((e) => e.content)).toEqual(["hello"]);
    calls[0]!.resolve(stored(calls[0]!.input, "1"));
    await flush();
    expect(held.size).toBe(0);
  });

  it("sends what an earlier page left, with the same clientMessageId, oldest first", async () => {
    const { storage } = recordingStorage([leftover("old-1"), leftover("old-2")]);
    const { sender, calls, stored } = setup(storage);
    await sender.start();
    expect(calls.map((c) => c.input.clientMessageId)).toEqual(["old-1"]);
    calls[0]!.resolve(stored(calls[0]!.input, "1"));
    await flush();
    expect(calls.map((c) => c.input.clientMessageId)).toEqual(["old-1", "old-2"]);
  });

  it("brings back a refused message as failed, for the person to retry or delete, and keeps its reason", async () => {
    const { storage, held } = recordingStorage([leftover("old", "Not sent: the message was not accepted.")]);
    const { store, sender, calls } = setup(storage);
    await sender.start();
    expect(calls).toHaveLength(0);
    expect(store.getState().outbox).toMatchObject([{ clientMessageId: "old", status: "failed", error: "Not sent: the message was not accepted." }]);
    sender.discard("old");
    await flush();
    expect(held.size).toBe(0);
  });

  it("saves a refusal, so that it is still failed after a reload", async () => {
    const { storage, held } = recordingStorage();
    const { sender, calls } = setup(storage);
    await sender.start();
    sender.send("c1", "hello");
    calls[0]!.reject(refused("FORBIDDEN"));
    await flush();
    expect(held.get("new-1")?.error).toBe("Not sent: you are not a member of this conversation.");
  });

  it("ignores stored entries of another user", async () => {
    const { storage } = recordingStorage([{ ...leftover("theirs"), senderId: "someone-else" }]);
    const { store, sender, calls } = setup(storage);
    await sender.start();
    expect(calls).toHaveLength(0);
    expect(store.getState().outbox).toEqual([]);
  });

  it("never gives a message up while offline, and sends it when the connection is back", async () => {
    vi.useFakeTimers();
    const { sender, calls, store, stored } = setup(memoryOutboxStorage());
    await sender.start();
    sender.send("c1", "written offline");
    // Two minutes offline: every attempt fails on the way.
    for (let elapsed = 0; elapsed < 120_000; elapsed += 1_000) {
      for (const call of calls) call.reject(offline());
      await vi.advanceTimersByTimeAsync(1_000);
    }
    // An attempt the last second started fails too, so that the sender is waiting, not sending.
    for (const call of calls) call.reject(offline());
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().outbox).toMatchObject([{ status: "pending", error: null }]);
    const attempts = calls.length;
    expect(attempts).toBeGreaterThan(6);
    sender.wake();
    expect(calls).toHaveLength(attempts + 1);
    expect(calls.at(-1)!.input.clientMessageId).toBe("new-1");
    calls.at(-1)!.resolve(stored(calls.at(-1)!.input, "5"));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().outbox).toEqual([]);
    sender.stop();
  });
});

describe("fileOutboxStorage", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const file = () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-outbox-"));
    dirs.push(dir);
    return join(dir, "outbox.json");
  };

  it("hands the next run what the last one did not send, in order, and only once", async () => {
    const path = file();
    const first = fileOutboxStorage(path);
    await first.save(leftover("a"));
    await first.save(leftover("b"));
    await first.save({ ...leftover("a"), error: "Not sent: the message was not accepted." });
    await first.save(leftover("c"));
    await first.remove("c");
    expect(await first.claim()).toEqual([]);

    const next = fileOutboxStorage(path);
    expect(await next.claim()).toEqual([{ ...leftover("a"), error: "Not sent: the message was not accepted." }, leftover("b")]);
    expect(await next.claim()).toEqual([]);
    await next.clear();
    expect(await fileOutboxStorage(path).claim()).toEqual([]);
  });

  it("starts empty without a file", async () => {
    expect(await fileOutboxStorage(file()).claim()).toEqual([]);
  });
});

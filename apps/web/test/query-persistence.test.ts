import { QueryClient } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keptQueriesKey, persistQueries } from "../src/app/query-persistence";
import { fakeStorage } from "./helpers";

// Query keys and first page params (null) as tRPC's react-query integration writes them.
const listKey = [["conversation", "list"], { input: { limit: 30 }, type: "infinite" }];
const historyKey = [["message", "list"], { input: { conversationId: "c1" }, type: "infinite" }];
const searchKey = [["user", "search"], { input: { query: "a" }, type: "query" }];
// A history opened at a found message (use-message-history.ts).
const windowKey = [["message", "list"], { input: { conversationId: "c1", around: "7", limit: 50 }, type: "infinite" }];

afterEach(() => {
  vi.useRealTimers();
});

describe("persistQueries", () => {
  it("keeps the queries the screens start from, each history's newest page only (no window around a found message), for the next page of the same user", async () => {
    vi.useFakeTimers();
    const storage = fakeStorage();
    const before = new QueryClient();
    const kept = persistQueries(before, storage, "u1");
    before.setQueryData(listKey, { pages: [[{ id: "c1" }]], pageParams: [null] });
    before.setQueryData(historyKey, { pages: [["newest"], ["older"]], pageParams: [null, "10"] });
    before.setQueryData(searchKey, [{ id: "u2" }]);
    before.setQueryData(windowKey, { pages: [["around"]], pageParams: [{ around: "7" }] });
    await vi.advanceTimersByTimeAsync(1_000);
    kept.stop();

    const after = new QueryClient();
    expect(persistQueries(after, storage, "u1").restore()).toBe(true);
    expect(after.getQueryData(listKey)).toEqual({ pages: [[{ id: "c1" }]], pageParams: [null] });
    expect(after.getQueryData(historyKey)).toEqual({ pages: [["newest"]], pageParams: [null] });
    expect(after.getQueryData(searchKey)).toBeUndefined();
    expect(after.getQueryData(windowKey)).toBeUndefined();
    expect(persistQueries(new QueryClient(), storage, "u2").restore()).toBe(false);
  });

  it("deletes what it kept on forget, and writes nothing after", async () => {
    vi.useFakeTimers();
    const storage = fakeStorage();
    const client = new QueryClient();
    const kept = persistQueries(client, storage, "u1");
    client.setQueryData(listKey, { pages: [[]], pageParams: [null] });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(storage.items.has(keptQueriesKey("u1"))).toBe(true);
    kept.forget();
    client.setQueryData(listKey, { pages: [[{ id: "c2" }]], pageParams: [null] });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(storage.items.has(keptQueriesKey("u1"))).toBe(false);
  });

  it("restores nothing from a damaged value", () => {
    const storage = fakeStorage();
    storage.setItem(keptQueriesKey("u1"), "{not json");
    expect(persistQueries(new QueryClient(), storage, "u1").restore()).toBe(false);
  });
});

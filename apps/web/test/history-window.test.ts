// A window around a found message, as the message list pages it: the query's page params against
// a stand-in for message.list with the server's around/cursor/after rules (packages/api's
// listMessages), in a real QueryClient; and which live messages it shows.
import { InfiniteQueryObserver, QueryClient } from "@tanstack/react-query";
import { describe, expect, it, onTestFinished } from "vitest";
import { HISTORY_PAGE_SIZE, historyWindowQuery, type MessagePage, type WindowPageParam } from "../src/app/use-message-history";
import { liveWithinHistory, newestLoaded } from "../src/lib/history-window";
import { message } from "./helpers";

/** message.list over the ids 1..count, as the server answers it. */
function fakeList(count: number) {
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const page = (items: number[], nextCursor: string | null, newerCursor?: string | null): MessagePage => ({
    items: items.map((id) => message({ id: String(id) })),
    nextCursor,
    ...(newerCursor === undefined ? {} : { newerCursor }),
  });
  const limit = HISTORY_PAGE_SIZE;
  return async (param: WindowPageParam): Promise<MessagePage> => {
    if ("around" in param) {
      const target = Number(param.around);
      const olderCount = Math.ceil(limit / 2);
      const newerCount = limit - olderCount;
      const below = ids.filter((id) => id <= target);
      const above = ids.filter((id) => id > target);
      const older = below.slice(-olderCount);
      const newer = above.slice(0, newerCount);
      const items = [...older, ...newer];
      return page(items, below.length > olderCount ? String(older[0]) : null, above.length > newerCount ? String(items.at(-1)) : null);
    }
    if ("after" in param) {
      const after = Number(param.after);
      const above = ids.filter((id) => id > after);
      const items = above.slice(0, limit);
      return page(items, ids.some((id) => id <= after) && items.length > 0 ? String(items[0]) : null, above.length > limit ? String(items.at(-1)) : null);
    }
    const below = ids.filter((id) => id < Number(param.cursor));
    const items = below.slice(-limit);
    return page(items, below.length > limit ? String(items[0]) : null);
  };
}

type WindowObserver = ReturnType<typeof windowObserver>;

function loadedIds(observer: WindowObserver): number[] {
  return (observer.getCurrentResult().data?.pages ?? []).flatMap((p) => p.items.map((m) => Number(m.id))).sort((a, b) => a - b);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function windowObserver(count: number, around: number) {
  const client = new QueryClient();
  const options = historyWindowQuery(fakeList(count), "c1", String(around));
  const observer = new InfiniteQueryObserver(client, options);
  // Watched, as the message list watches it (a window nobody watches is dropped at once).
  onTestFinished(observer.subscribe(() => undefined));
  return observer;
}

describe("a history window", () => {
  it("opens around the message and pages both ways to either end, each message once and no gap", async () => {
    const observer = windowObserver(200, 100);
    await observer.refetch();
    expect(loadedIds(observer)).toEqual(range(76, 125));
    for (let i = 0; i < 10 && observer.getCurrentResult().hasPreviousPage; i += 1) await observer.fetchPreviousPage();
    for (let i = 0; i < 10 && observer.getCurrentResult().hasNextPage; i += 1) await observer.fetchNextPage();
    expect(loadedIds(observer)).toEqual(range(1, 200));
    expect(observer.getCurrentResult()).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
  });

  it("reloaded (as after a lost feed position), reads the same range again from its newest page down", async () => {
    const observer = windowObserver(300, 100);
    await observer.refetch();
    await observer.fetchPreviousPage();
    await observer.fetchNextPage();
    const before = loadedIds(observer);
    expect(before).toEqual(range(26, 175));
    await observer.refetch();
    expect(loadedIds(observer)).toEqual(before);
    expect(observer.getCurrentResult()).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });
});

describe("liveWithinHistory", () => {
  const pages = [[message({ id: "10" }), message({ id: "12" })], [message({ id: "4" }), message({ id: "6" })]];
  it("shows only the live messages the window covers while it does not reach the newest", () => {
    const live = [message({ id: "11" }), message({ id: "12" }), message({ id: "20" })];
    expect(liveWithinHistory(live, pages, false).map((m) => m.id)).toEqual(["11", "12"]);
    expect(newestLoaded(pages)).toBe("12");
  });
  it("shows every live message once the pages reach the newest", () => {
    const live = [message({ id: "20" })];
    expect(liveWithinHistory(live, pages, true)).toBe(live);
  });
  it("shows none before a page has loaded", () => {
    expect(liveWithinHistory([message({ id: "1" })], [], false)).toEqual([]);
  });
});

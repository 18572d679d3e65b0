import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveStream, type FeedObserver, type FeedSource } from "../src/live/live-stream";

type TestEvent = { type: "note"; text: string } | { type: "typing"; userId: string };

/** A feed whose subscriptions the test drives by hand; records where each one resumed. */
function fakeFeed() {
  const opened: { lastEventId: string | null; observer: FeedObserver<TestEvent>; closed: boolean }[] = [];
  const source: FeedSource<TestEvent> = (lastEventId, observer) => {
    const subscription = { lastEventId, observer, closed: false };
    opened.push(subscription);
    return { unsubscribe: () => void (subscription.closed = true) };
  };
  const current = () => {
    const last = opened.at(-1);
    if (!last) throw new Error("not subscribed");
    return last.observer;
  };
  return { source, opened, current };
}

function setup(onUnauthorized = async () => true) {
  const feed = fakeFeed();
  const notes: string[] = [];
  const typing: string[] = [];
  const calls = { resumeLost: 0, started: 0, live: [] as boolean[] };
  const stream = new LiveStream<TestEvent>({
    source: feed.source,
    handlers: { note: (e) => notes.push(e.text), typing: (e) => typing.push(e.userId) },
    onLiveChange: (live) => calls.live.push(live),
    onResumeLost: () => (calls.resumeLost += 1),
    onStarted: () => (calls.started += 1),
    onUnauthorized,
    retryDelayMs: () => 100,
  });
  return { feed, stream, notes, typing, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("LiveStream", () => {
  it("hands each event to the handler for its type", () => {
    const { feed, stream, notes, typing } = setup();
    stream.start();
    feed.current().onData({ id: "1", event: { type: "note", text: "a" } });
    feed.current().onData({ id: undefined, event: { type: "typing", userId: "u2" } });
    expect(notes).toEqual(["a"]);
    expect(typing).toEqual(["u2"]);
  });

  it("subscribes again after the stream ends, resuming after the last stored event, with a delay", () => {
    vi.useFakeTimers();
    const { feed, stream, calls } = setup();
    stream.start();
    feed.current().onStarted();
    feed.current().onData({ id: "7", event: { type: "note", text: "a" } });
    // An ephemeral event carries no id and does not move the position.
    feed.current().onData({ id: undefined, event: { type: "typing", userId: "u2" } });
    feed.current().onComplete();
    expect(feed.opened).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(feed.opened.map((s) => s.lastEventId)).toEqual([null, "7"]);
    feed.current().onStarted();
    expect(calls.resumeLost).toBe(1);
    expect(calls.started).toBe(2);
    expect(calls.live).toEqual([true, false, true]);
    stream.stop();
  });

  it("forgets a position the server refuses with PRECONDITION_FAILED and subscribes afresh, so the caller reloads", () => {
    vi.useFakeTimers();
    const { feed, stream, calls } = setup();
    stream.start();
    feed.current().onStarted();
    feed.current().onData({ id: "7", event: { type: "note", text: "a" } });
    feed.current().onError(new Error("socket closed"));
    vi.advanceTimersByTime(100);
    feed.current().onError(Object.assign(new Error("too old"), { data: { code: "PRECONDITION_FAILED" } }));
    vi.advanceTimersByTime(100);
    expect(feed.opened.map((s) => s.lastEventId)).toEqual([null, "7", null]);
    feed.current().onStarted();
    expect(calls.resumeLost).toBe(2);
    stream.stop();
  });

  it("reports a start with nothing to resume from, so that the caller reloads", () => {
    const { feed, stream, calls } = setup();
    stream.start();
    feed.current().onStarted();
    expect(calls.resumeLost).toBe(1);
  });

  it("refreshes the token after UNAUTHORIZED and stops when the session has ended", async () => {
    vi.useFakeTimers();
    const { feed, stream } = setup(async () => false);
    stream.start();
    feed.current().onError(Object.assign(new Error("no"), { data: { code: "UNAUTHORIZED" } }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(feed.opened).toHaveLength(1);
    stream.stop();
  });

  it("does not subscribe again once stopped", () => {
    vi.useFakeTimers();
    const { feed, stream } = setup();
    stream.start();
    feed.current().onError(new Error("socket closed"));
    stream.stop();
    vi.advanceTimersByTime(10_000);
    expect(feed.opened).toHaveLength(1);
    expect(feed.opened[0]?.closed).toBe(true);
  });
});

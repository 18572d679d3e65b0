// The composer's side of typing: when typing.set is called while someone types.
import { describe, expect, it } from "vitest";
import { TYPING_REPORT_MS, TypingReporter } from "../src/chat/typing-reporter";

function reporter(fail = false) {
  let now = 10_000;
  const calls: { conversationId: string; at: number }[] = [];
  const timers: { at: number; run: () => void; cancelled: boolean }[] = [];
  const typing = new TypingReporter({
    now: () => now,
    setTimer: (run, ms) => {
      const timer = { at: now + ms, run, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
    report: (conversationId) => {
      calls.push({ conversationId, at: now });
      return fail ? Promise.reject(new Error("offline")) : Promise.resolve({ ok: true });
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
  return { typing, calls, advance, pending: () => timers.filter((t) => !t.cancelled).length };
}

describe("TypingReporter", () => {
  it("tells the server on the first keystroke, at once, per conversation", () => {
    const { typing, calls } = reporter();
    typing.typed("c1", "h");
    typing.typed("c2", "x");
    expect(calls.map((c) => c.conversationId)).toEqual(["c1", "c2"]);
  });

  it("tells keystrokes within the interval once, just after it ends, never sooner", () => {
    const { typing, calls, advance } = reporter();
    typing.typed("c1", "h");
    advance(500);
    typing.typed("c1", "he");
    typing.typed("c1", "hel");
    advance(TYPING_REPORT_MS - 500 - 1);
    expect(calls).toHaveLength(1);
    advance(1_000);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThan(TYPING_REPORT_MS);
  });

  it("keeps telling, once per interval, while the person goes on typing", () => {
    const { typing, calls, advance } = reporter();
    for (let i = 0; i < 60; i += 1) {
      typing.typed("c1", "x".repeat(i + 1));
      advance(100);
    }
    // Six seconds of typing: told at the start and about every 2.25 s after.
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.length).toBeLessThanOrEqual(4);
  });

  it("tells nothing held back once the message is sent or the composer cleared", () => {
    const { typing, calls, advance, pending } = reporter();
    typing.typed("c1", "hi");
    typing.typed("c1", "hi there");
    typing.stopped("c1");
    expect(pending()).toBe(0);
    typing.typed("c2", "a");
    typing.typed("c2", "ab");
    typing.typed("c2", "");
    advance(TYPING_REPORT_MS * 2);
    expect(calls.map((c) => c.conversationId)).toEqual(["c1", "c2"]);
  });

  it("says nothing for blank text", () => {
    const { typing, calls } = reporter();
    typing.typed("c1", "  \n");
    expect(calls).toHaveLength(0);
  });

  it("tells a new message typed right after a send when the interval ends, and one typed later at once", () => {
    const { typing, calls, advance } = reporter();
    typing.typed("c1", "first");
    typing.stopped("c1");
    advance(300);
    typing.typed("c1", "s");
    expect(calls).toHaveLength(1);
    advance(TYPING_REPORT_MS);
    expect(calls).toHaveLength(2);
    typing.stopped("c1");
    advance(TYPING_REPORT_MS * 2);
    typing.typed("c1", "t");
    expect(calls).toHaveLength(3);
  });

  it("tries again on the next keystroke when a call failed", async () => {
    const { typing, calls } = reporter(true);
    typing.typed("c1", "a");
    await Promise.resolve();
    await Promise.resolve();
    typing.typed("c1", "ab");
    expect(calls).toHaveLength(2);
  });
});

// The composer's side of typing: how often typing.set is called while someone types.
import { describe, expect, it } from "vitest";
import { TYPING_REPORT_MS, TypingReporter } from "../src/chat/typing-reporter";

function reporter(fail = false) {
  let now = 10_000;
  const calls: { conversationId: string; at: number }[] = [];
  const typing = new TypingReporter({
    now: () => now,
    report: (conversationId) => {
      calls.push({ conversationId, at: now });
      return fail ? Promise.reject(new Error("offline")) : Promise.resolve({ ok: true });
    },
  });
  return { typing, calls, advance: (ms: number) => void (now += ms) };
}

describe("TypingReporter", () => {
  it("tells the server on the first keystroke and then at most once per interval per conversation", () => {
    const { typing, calls, advance } = reporter();
    typing.typed("c1", "h");
    typing.typed("c1", "he");
    typing.typed("c2", "x");
    advance(TYPING_REPORT_MS - 1);
    typing.typed("c1", "hel");
    advance(1);
    typing.typed("c1", "hell");
    expect(calls.map((c) => c.conversationId)).toEqual(["c1", "c2", "c1"]);
    expect(calls[2]?.at).toBe(10_000 + TYPING_REPORT_MS);
  });

  it("says nothing for blank text, and a cleared composer starts the interval afresh", () => {
    const { typing, calls } = reporter();
    typing.typed("c1", "  \n");
    expect(calls).toHaveLength(0);
    typing.typed("c1", "a");
    typing.typed("c1", "");
    typing.typed("c1", "b");
    expect(calls).toHaveLength(2);
  });

  it("tells the first keystroke after a send at once", () => {
    const { typing, calls } = reporter();
    typing.typed("c1", "first message");
    typing.stopped("c1");
    typing.typed("c1", "s");
    expect(calls).toHaveLength(2);
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

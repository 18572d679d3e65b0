import { describe, expect, it } from "vitest";
import { describeSearchError, groupByConversation, jumpTarget, messageSearchQuery, snippetParts, type SearchResult } from "../src/lib/message-search";
import { message } from "./helpers";

function result(id: string, conversationId: string, threadId: string | null = null): SearchResult {
  return { ...message({ id, conversationId, threadId }), snippet: `text ${id}`, highlights: [] };
}

describe("messageSearchQuery", () => {
  it("asks for two letters or more besides filters, quotes and spaces", () => {
    expect(messageSearchQuery("  a ")).toBeNull();
    expect(messageSearchQuery("from:ann a")).toBeNull();
    expect(messageSearchQuery('"a"')).toBeNull();
    expect(messageSearchQuery(" ab ")).toBe("ab");
    expect(messageSearchQuery("from:ann hello")).toBe("from:ann hello");
  });

  it("asks for has:file with no words (it lists files), but not for other filters alone", () => {
    expect(messageSearchQuery(" has:file in:c1 ")).toBe("has:file in:c1");
    expect(messageSearchQuery("HAS:FILE")).toBe("HAS:FILE");
    expect(messageSearchQuery("from:ann in:c1")).toBeNull();
    expect(messageSearchQuery("has:files")).toBeNull();
  });
});

describe("snippetParts", () => {
  it("splits the snippet into plain and highlighted parts at the ranges", () => {
    expect(snippetParts("the quick fox", [{ start: 4, end: 9 }])).toEqual([
      { text: "the ", highlighted: false },
      { text: "quick", highlighted: true },
      { text: " fox", highlighted: false },
    ]);
    expect(snippetParts("ab", [{ start: 0, end: 2 }])).toEqual([{ text: "ab", highlighted: true }]);
    expect(snippetParts("ab", [])).toEqual([{ text: "ab", highlighted: false }]);
  });

  it("keeps markup in a snippet as text: the parts are text, never HTML", () => {
    expect(snippetParts("<b>x</b>", [{ start: 3, end: 4 }]).map((p) => p.text)).toEqual(["<b>", "x", "</b>"]);
  });

  it("clips ranges past the end and leaves out overlapping or empty ones", () => {
    expect(
      snippetParts("abcdef", [
        { start: 1, end: 3 },
        { start: 2, end: 4 },
        { start: 5, end: 5 },
        { start: 5, end: 99 },
      ]),
    ).toEqual([
      { text: "a", highlighted: false },
      { text: "bc", highlighted: true },
      { text: "d", highlighted: true },
      { text: "e", highlighted: false },
      { text: "f", highlighted: true },
    ]);
  });
});

describe("groupByConversation", () => {
  it("groups by conversation in the order of each one's newest result, keeping the results' order", () => {
    const groups = groupByConversation([result("9", "b"), result("8", "a"), result("7", "b")]);
    expect(groups.map((g) => [g.conversationId, g.results.map((r) => r.id)])).toEqual([
      ["b", ["9", "7"]],
      ["a", ["8"]],
    ]);
  });
});

describe("jumpTarget", () => {
  it("opens a message at itself, and a reply at its root with the thread at the reply", () => {
    expect(jumpTarget(result("5", "c"))).toEqual({ conversationId: "c", messageId: "5", replyId: null });
    expect(jumpTarget(result("6", "c", "2"))).toEqual({ conversationId: "c", messageId: "2", replyId: "6" });
  });
});

describe("describeSearchError", () => {
  const trpcError = (code: string, text: string, extra: object = {}) => Object.assign(new Error(text), { data: { code, ...extra } });
  it("says a rate limit with the wait, as an error", () => {
    expect(describeSearchError(trpcError("TOO_MANY_REQUESTS", "Too many searches. Try again in 5 seconds.", { retryAfterSeconds: 5 }))).toEqual({
      text: "Too many searches. Try again in 5 seconds.",
      aboutQuery: false,
    });
  });
  it("says a query the server cannot run as a hint about the query", () => {
    expect(describeSearchError(trpcError("BAD_REQUEST", "query has no words to search for"))).toEqual({ text: "Query has no words to search for.", aboutQuery: true });
    expect(describeSearchError(trpcError("NOT_FOUND", "No such conversation")).aboutQuery).toBe(true);
  });
  it("says no answer came as a failure", () => {
    expect(describeSearchError(new Error("fetch failed")).aboutQuery).toBe(false);
  });
});

// message.search's pure parts, at their edges: the query's filters, quotes, prefix and word limit
// (with their error messages), the matched ranges (accents, CJK substrings, merging) and where a
// long content's snippet is cut (the lead, a word's beginning, ellipses, surrogate pairs).
import { describe, expect, it } from "vitest";
import { matchedRanges, parseSearchQuery, SEARCH_WORDS_MAX, snippetOf, SNIPPET_LENGTH } from "../src/domain/message-search.js";

/** The highlighted parts of a snippet, as text. */
function highlighted(content: string, phrases: string[][], prefix: string | null = null): { snippet: string; parts: string[] } {
  const { snippet, highlights } = snippetOf(content, { phrases, prefix });
  return { snippet, parts: highlights.map(({ start, end }) => snippet.slice(start, end)) };
}

describe("parseSearchQuery", () => {
  it("refuses an empty from: or in:, and two different ones, but not the same one twice", () => {
    expect(() => parseSearchQuery("x from:")).toThrow("from: needs a value");
    expect(() => parseSearchQuery("x from:@")).toThrow("from: needs a value");
    expect(() => parseSearchQuery("x in:")).toThrow("in: needs a value");
    expect(() => parseSearchQuery("x from:ann from:bob")).toThrow("the query names two different from: filters");
    expect(() => parseSearchQuery("x in:c1 in:c2")).toThrow("the query names two different in: filters");
    expect(parseSearchQuery("x from:Bob from:@bob in:c1 in:c1")).toMatchObject({ from: "bob", in: "c1" });
  });

  it("drops only a leading @ of from:, and accepts has:file only", () => {
    expect(parseSearchQuery("x from:bo@b").from).toBe("bo@b");
    expect(parseSearchQuery("x FROM:@Ann HAS:File")).toMatchObject({ from: "ann", hasFile: true });
    expect(() => parseSearchQuery("x has:image")).toThrow("has: supports has:file only");
  });

  it("an unclosed quote is a phrase to the end, an empty one is nothing, and a quoted word is no prefix", () => {
    expect(parseSearchQuery('"report the')).toMatchObject({ phrases: [["report", "the"]], prefix: null });
    expect(parseSearchQuery('"" draft')).toMatchObject({ phrases: [], prefix: "draft" });
    expect(parseSearchQuery('draft ""')).toMatchObject({ phrases: [], prefix: "draft" });
    expect(parseSearchQuery('x "plan"')).toMatchObject({ phrases: [["x"], ["plan"]], prefix: null });
    // Something without words after a quoted word leaves that word whole.
    expect(parseSearchQuery('"plan" !!!')).toMatchObject({ phrases: [["plan"]], prefix: null });
    expect(parseSearchQuery('"big plan" dra')).toMatchObject({ phrases: [["big", "plan"]], prefix: "dra" });
  });

  it("needs a word, and at most SEARCH_WORDS_MAX of them, phrases and prefix included", () => {
    for (const query of ["", "   ", "from:someone in:c1", '"" ""', "!!! ???", '"" from:a']) {
      expect(() => parseSearchQuery(query), query).toThrow("query has no words to search for (from: and in: narrow a search, they are not one; has:file alone lists files)");
    }
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);
    expect(SEARCH_WORDS_MAX).toBe(32);
    const atMost = parseSearchQuery(`"${words(30).join(" ")}" y z`);
    expect([atMost.phrases.flat().length, atMost.prefix]).toEqual([31, "z"]);
    expect(parseSearchQuery(words(SEARCH_WORDS_MAX).join(" ")).prefix).toBe(`w${SEARCH_WORDS_MAX - 1}`);
    expect(() => parseSearchQuery(words(SEARCH_WORDS_MAX + 1).join(" "))).toThrow(`query may have at most ${SEARCH_WORDS_MAX} words`);
    expect(() => parseSearchQuery(`"${words(SEARCH_WORDS_MAX).join(" ")}" z`)).toThrow(`query may have at most ${SEARCH_WORDS_MAX} words`);
  });
});

describe("matchedRanges", () => {
  it("matches whole words, the prefix only at a word's beginning, accents and case aside", () => {
    const content = "Un Café à Paris, submarine marine nullable résumé";
    expect(matchedRanges(content, { phrases: [["cafe"], ["RESUME"]], prefix: "mar" }).map(([s, e]) => content.slice(s, e))).toEqual(["Café", "marine", "résumé"]);
    // No prefix is no prefix (not the word "null").
    expect(matchedRanges(content, { phrases: [["paris"]], prefix: null }).map(([s, e]) => content.slice(s, e))).toEqual(["Paris"]);
  });

  it("folds as the indexes do: lower case, so ß is not ss", () => {
    const content = "Straße Strasse";
    expect(matchedRanges(content, { phrases: [["strasse"]], prefix: null })).toEqual([[7, 14]]);
  });

  it("finds CJK words and a CJK prefix as substrings, every occurrence, never by their decomposed letters", () => {
    const content = "明日は東京都庁で会議です。東京";
    expect(matchedRanges(content, { phrases: [["京都庁"]], prefix: null })).toEqual([[4, 7]]);
    expect(matchedRanges(content, { phrases: [], prefix: "東京" })).toEqual([[3, 5], [13, 15]]);
    // A Hangul syllable decomposes into conjoining letters; a query of those letters is no CJK word.
    expect(matchedRanges("한국 회의", { phrases: [], prefix: "\u1112" })).toEqual([]);
  });

  it("orders the ranges by place and merges overlapping, adjacent and contained ones", () => {
    const content = "東京 tokyo 東京都";
    expect(matchedRanges(content, { phrases: [["東京"], ["tokyo"]], prefix: null })).toEqual([[0, 2], [3, 8], [9, 11]]);
    expect(matchedRanges(content, { phrases: [["tokyo"], ["東京"], ["京都"]], prefix: null })).toEqual([[0, 2], [3, 8], [9, 12]]);
    expect(matchedRanges(content, { phrases: [["tokyo"], ["東京"], ["都"]], prefix: null })).toEqual([[0, 2], [3, 8], [9, 12]]);
    expect(matchedRanges(content, { phrases: [["東京都"], ["京"]], prefix: null })).toEqual([[1, 2], [9, 12]]);
  });
});

describe("snippetOf", () => {
  it("keeps a content of SNIPPET_LENGTH characters whole, and cuts a longer one", () => {
    const whole = `ab needle ${"w".repeat(SNIPPET_LENGTH - 10)}`;
    expect(whole).toHaveLength(SNIPPET_LENGTH);
    expect(highlighted(whole, [["needle"]])).toEqual({ snippet: whole, parts: ["needle"] });
    const long = `${whole}x`;
    // The match is near the start: the snippet is the content's beginning, cut at the end.
    expect(highlighted(long, [["needle"]])).toEqual({ snippet: `${long.slice(0, SNIPPET_LENGTH)}…`, parts: ["needle"] });
  });

  it("shows the start when nothing is highlighted, and no leading ellipsis when the match is near the start", () => {
    const content = "word ".repeat(60);
    expect(highlighted(content, [["zzz"]])).toEqual({ snippet: `${content.slice(0, SNIPPET_LENGTH)}…`, parts: [] });
    const first = `needle ${content}`;
    expect(highlighted(first, [["needle"]])).toEqual({ snippet: `${first.slice(0, SNIPPET_LENGTH)}…`, parts: ["needle"] });
  });

  it("shows 60 characters before a match in the middle, and no trailing ellipsis when the cut reaches the end", () => {
    const content = `${"word ".repeat(40)}needle ${"tail ".repeat(40)}`;
    expect(highlighted(content, [["needle"]])).toEqual({ snippet: `…${content.slice(140, 340)}…`, parts: ["needle"] });
    const last = `${"word ".repeat(60)}needle end`;
    expect(highlighted(last, [["needle"]], "end")).toEqual({ snippet: `…${last.slice(240)}`, parts: ["needle", "end"] });
  });

  it("starts at a word's beginning when a space is in the first 30 characters of the lead", () => {
    const cut = (before: string) => highlighted(`${before}.needle ${"tail ".repeat(60)}`, [["needle"]]);
    // The match at 121, the lead from 61: the space at 70 moves the start to 71.
    expect(cut(`${"a".repeat(70)} ${"b".repeat(49)}`).snippet).toMatch(/^…b{49}\.needle/);
    // A space at the lead's very start, at 61: the start moves past it.
    expect(cut(`${"a".repeat(61)} ${"b".repeat(58)}`).snippet).toMatch(/^…b{58}\.needle/);
    // A space 30 characters into the lead is too far: the start stays at 61.
    expect(cut(`${"a".repeat(91)} ${"b".repeat(28)}`).snippet).toMatch(/^…a{30} b{28}\.needle/);
    // A space before the lead is no word's beginning in it.
    expect(cut(`x ${"a".repeat(118)}`).snippet).toMatch(/^…a{59}\.needle/);
    // A space after the match is none either.
    expect(cut(`${"a".repeat(120)}`).snippet).toMatch(/^…a{59}\.needle/);
  });

  it("starts at the first word of the lead in ordinary text, not at the word before the match", () => {
    // Words of 5 to 7 letters: the cut 60 characters before the match falls inside one.
    const content = `${"alpha gamma delta kappas omegas ".repeat(6)}needle ${"tail ".repeat(60)}`;
    const { snippet } = highlighted(content, [["needle"]]);
    const from = content.indexOf(snippet.slice(1, -1));
    expect(content[from - 1]).toBe(" ");
    expect(content.indexOf("needle") - from).toBeGreaterThan(30);
    expect(content.indexOf("needle") - from).toBeLessThanOrEqual(60);
  });

  it("never cuts a surrogate pair, keeping the character at either cut", () => {
    // The lead from 22 and the end at 221 fall on second halves of emoji: both move back one.
    const content = `a${"😀".repeat(40)}.needle..${"😀".repeat(100)}`;
    const { snippet, parts } = highlighted(content, [["needle"]]);
    expect(snippet).toBe(`…${content.slice(21, 220)}…`);
    expect(parts).toEqual(["needle"]);
  });

  it("highlights only matches inside the snippet, several of them, and none starting at its end", () => {
    const content = `needle ${"x".repeat(192)}.needle needle`;
    expect(content.indexOf(".needle")).toBe(SNIPPET_LENGTH - 1);
    const { snippet, highlights } = snippetOf(content, { phrases: [["needle"]], prefix: null });
    expect(snippet).toBe(`${content.slice(0, SNIPPET_LENGTH)}…`);
    expect(highlights).toEqual([{ start: 0, end: 6 }]);
    const several = `${"word ".repeat(20)}needle a needle b needle ${"tail ".repeat(40)}`;
    expect(highlighted(several, [["needle"]]).parts).toEqual(["needle", "needle", "needle"]);
  });
});

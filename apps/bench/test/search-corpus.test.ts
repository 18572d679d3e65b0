// The search scenario's corpus and queries come from a seed alone: the seeding process and the
// scenario derive the same messages, and every run asks the same questions.
import { describe, expect, it } from "vitest";
import { mulberry32, zipfSampler } from "../src/random.js";
import { QUERY_CLASSES, queryFor, RARE_RANK, SearchCorpus, type CorpusShape } from "../src/search-corpus.js";

const shape: CorpusShape = { messages: 20_000, conversations: 50, users: 40, conversationsPerUser: { min: 3, max: 6 }, seed: 7 };

describe("the Zipf sampler", () => {
  it("draws the same ranks for the same seed, the first rank most often", () => {
    const draw = zipfSampler(1_000, 1);
    const ranks = (seed: number) => Array.from({ length: 5_000 }, ((random) => () => draw(random))(mulberry32(seed)));
    expect(ranks(1)).toEqual(ranks(1));
    const counts = new Map<number, number>();
    for (const rank of ranks(1)) counts.set(rank, (counts.get(rank) ?? 0) + 1);
    // 1 / H(1000) of the draws are rank 0 (about 13%), half as many rank 1.
    expect((counts.get(0) ?? 0) / 5_000).toBeGreaterThan(0.11);
    expect((counts.get(0) ?? 0) / 5_000).toBeLessThan(0.16);
    expect(counts.get(1) ?? 0).toBeLessThan(counts.get(0) ?? 0);
  });
});

describe("the search corpus", () => {
  it("is the same for the same seed: members, messages and queries", () => {
    const a = new SearchCorpus(shape);
    const b = new SearchCorpus(shape);
    expect(b.conversationIds).toEqual(a.conversationIds);
    expect(b.membersOf).toEqual(a.membersOf);
    expect([0, 1, 9_999].map((i) => b.message(i))).toEqual([0, 1, 9_999].map((i) => a.message(i)));
    const queries = (corpus: SearchCorpus) => {
      const random = mulberry32(3);
      return QUERY_CLASSES.map((kind, user) => queryFor(corpus, user, kind, random));
    };
    expect(queries(b)).toEqual(queries(a));
  });

  it("gives every user their number of conversations and every message a sender who is a member", () => {
    const corpus = new SearchCorpus(shape);
    for (const mine of corpus.conversationsOf) expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const members of corpus.membersOf) expect(members.length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 2_000; i += 1) {
      const m = corpus.message(i);
      expect(corpus.membersOf[m.conversation]).toContain(m.sender);
    }
  });

  it("has common and rare words, accented Latin, Cyrillic and CJK text", () => {
    const corpus = new SearchCorpus(shape);
    const contents = Array.from({ length: shape.messages }, (_, i) => corpus.message(i).content);
    const containing = (word: string) => contents.filter((c) => c.toLowerCase().split(/[\s,.?]+/).includes(word)).length;
    expect(containing("the") / contents.length).toBeGreaterThan(0.4);
    expect(containing(corpus.vocabulary[RARE_RANK + 5] ?? "")).toBeLessThan(20);
    expect(contents.some((c) => /[à-ÿ]/.test(c))).toBe(true);
    expect(contents.some((c) => /[а-я]/.test(c))).toBe(true);
    expect(contents.filter((c) => /[\u4e00-\u9fff]/.test(c)).length / contents.length).toBeGreaterThan(0.01);
  });

  it("asks a phrase and a CJK substring that are in a message of the user's conversations", () => {
    const corpus = new SearchCorpus(shape);
    const random = mulberry32(5);
    const phrase = queryFor(corpus, 0, "phrase", random).query;
    const cjk = queryFor(corpus, 0, "CJK substring", random).query;
    const mine = new Set(corpus.conversationsOf[0]);
    const visible = Array.from({ length: shape.messages }, (_, i) => corpus.message(i)).filter((m) => mine.has(m.conversation));
    expect(visible.some((m) => m.content.includes(phrase.slice(1, -1)))).toBe(true);
    expect(cjk.length).toBeGreaterThanOrEqual(3);
    expect(visible.some((m) => m.content.includes(cjk))).toBe(true);
  });
});

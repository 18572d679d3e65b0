// message.search on both databases, through the procedure: every word (the last as a prefix),
// phrases, the filters, who may find what (members now only), deleted and edited messages,
// accented, Cyrillic and CJK text, paging, snippets and bad input.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseSearchQuery, snippetOf } from "../src/domain/message-search.js";
import { describeEachProvider, suiteDatabase, trpcErrorOf } from "./helpers.js";
import { scenes } from "./scenes.js";

describeEachProvider("message.search", (provider) => {
  const suite = suiteDatabase(provider);
  const { world, people, send, group } = scenes(suite);

  /** The contents a caller finds for a query (newest first). */
  async function found(w: Awaited<ReturnType<typeof world>>, userId: string, query: string, conversationId?: string): Promise<string[]> {
    const page = await w.as(userId).message.search({ query, conversationId });
    return page.items.map((item) => item.content);
  }

  it("needs every word, the last as the beginning of a word, and no other word as a prefix", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    await send(w, ann, c, "the orange submarine surfaced");
    await send(w, bob, c, "an orange kite");
    await send(w, ann, c, "submarine sandwiches");
    expect(await found(w, bob.id, "orange submarine")).toEqual(["the orange submarine surfaced"]);
    expect(await found(w, bob.id, "orange sub")).toEqual(["the orange submarine surfaced"]);
    expect(await found(w, bob.id, "sub")).toEqual(["submarine sandwiches", "the orange submarine surfaced"]);
    // Only the last word is a prefix; and a prefix begins a word, it is not found inside one.
    expect(await found(w, bob.id, "oran submarine")).toEqual([]);
    expect(await found(w, bob.id, "marine")).toEqual([]);
    expect(await found(w, bob.id, "ORANGE KITE")).toEqual(["an orange kite"]);
  });

  it("a quoted phrase needs its words adjacent and in order", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    await send(w, ann, c, "quarterly report is due");
    await send(w, ann, c, "report the quarterly numbers");
    await send(w, ann, c, "quarterly sales report");
    expect(await found(w, bob.id, '"quarterly report"')).toEqual(["quarterly report is due"]);
    expect(await found(w, bob.id, "quarterly report")).toEqual(["quarterly sales report", "report the quarterly numbers", "quarterly report is due"]);
    // An unclosed quote runs to the end.
    expect(await found(w, bob.id, '"report the')).toEqual(["report the quarterly numbers"]);
  });

  it("from: keeps one sender's messages, in: and conversationId one conversation", async () => {
    const w = await world();
    const [ann, bob, cat] = await people(3);
    const first = await group(w, ann, [bob, cat]);
    const second = await group(w, bob, [ann]);
    await send(w, ann, first, "lantern from ann");
    await send(w, bob, first, "lantern from bob");
    await send(w, bob, second, "lantern elsewhere");
    expect(await found(w, ann.id, `lantern from:${bob.name}`)).toEqual(["lantern elsewhere", "lantern from bob"]);
    expect(await found(w, ann.id, `from:@${bob.name.toUpperCase()} lantern`)).toEqual(["lantern elsewhere", "lantern from bob"]);
    expect(await found(w, ann.id, "lantern from:nobody-by-that-name")).toEqual([]);
    expect(await found(w, ann.id, `lantern in:${first}`)).toEqual(["lantern from bob", "lantern from ann"]);
    expect(await found(w, ann.id, "lantern", second)).toEqual(["lantern elsewhere"]);
    expect(await found(w, ann.id, `lantern in:${second} from:${bob.name}`, second)).toEqual(["lantern elsewhere"]);
  });

  it("has:file keeps the messages with files; alone, it lists them; a deleted message's files are not found", async () => {
    const w = await world({}, { files: true });
    const [ann, bob, eve] = await people(3);
    const c = await group(w, ann, [bob]);
    const upload = (userId: string, name: string) =>
      w.services.files.upload({ userId, conversationId: c, name, declaredLength: null, body: Readable.from([Buffer.from(`bytes of ${name}`)]) });
    const plan = await upload(ann.id, "plan.pdf");
    const notes = await upload(bob.id, "notes.txt");
    await w.as(ann.id).message.send({ conversationId: c, content: "lantern plan attached", clientMessageId: "f1", attachmentIds: [plan.id] });
    await send(w, ann, c, "lantern without a file");
    const withNotes = await w.as(bob.id).message.send({ conversationId: c, content: "", clientMessageId: "f2", attachmentIds: [notes.id] });
    expect(await found(w, bob.id, "lantern has:file")).toEqual(["lantern plan attached"]);
    expect(await found(w, bob.id, "lantern")).toEqual(["lantern without a file", "lantern plan attached"]);
    // has:file alone: every message with files, newest first (a message of files only included), of a sender with from:.
    expect(await found(w, bob.id, "has:file")).toEqual(["", "lantern plan attached"]);
    const page = await w.as(ann.id).message.search({ query: "has:file" });
    expect(page.items.map((m) => m.attachments.map((a) => a.name))).toEqual([["notes.txt"], ["plan.pdf"]]);
    expect(await found(w, ann.id, `has:file from:${ann.name}`)).toEqual(["lantern plan attached"]);
    expect(await found(w, ann.id, `HAS:FILE in:${c}`)).toEqual(["", "lantern plan attached"]);
    // Not a member: nothing, and for the conversation named, FORBIDDEN.
    expect(await found(w, eve.id, "has:file")).toEqual([]);
    expect((await trpcErrorOf(w.as(eve.id).message.search({ query: "has:file", conversationId: c }))).code).toBe("FORBIDDEN");
    await w.as(bob.id).message.delete({ messageId: withNotes.id });
    expect(await found(w, ann.id, "has:file")).toEqual(["lantern plan attached"]);
  });

  it("finds only in the caller's conversations, and nothing more of one they were removed from", async () => {
    const w = await world();
    const [ann, bob, eve] = await people(3);
    const c = await group(w, ann, [bob]);
    await send(w, bob, c, "confidential harvest plan");
    expect(await found(w, eve.id, "harvest")).toEqual([]);
    expect((await trpcErrorOf(w.as(eve.id).message.search({ query: "harvest", conversationId: c }))).code).toBe("FORBIDDEN");
    const forbidden = await trpcErrorOf(w.as(eve.id).message.search({ query: `harvest in:${c}` }));
    expect([forbidden.code, forbidden.message]).toEqual(["FORBIDDEN", "You are not a member of this conversation"]);
    const missing = await trpcErrorOf(w.as(eve.id).message.search({ query: "harvest in:no-such-conversation" }));
    expect([missing.code, missing.message]).toEqual(["NOT_FOUND", "No such conversation"]);

    expect(await found(w, ann.id, "harvest")).toEqual(["confidential harvest plan"]);
    await w.as(bob.id).conversation.leave({ conversationId: c });
    expect(await found(w, bob.id, "harvest")).toEqual([]);
    await w.as(ann.id).conversation.addMembers({ conversationId: c, userIds: [eve.id] });
    expect(await found(w, eve.id, "harvest")).toEqual(["confidential harvest plan"]);
    await w.as(ann.id).conversation.removeMember({ conversationId: c, userId: eve.id });
    expect(await found(w, eve.id, "harvest")).toEqual([]);
  });

  it("includes thread replies, never finds a deleted message, and follows edits", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    const root = await send(w, ann, c, "gazebo root");
    await send(w, bob, c, "gazebo reply", root.id);
    expect(await found(w, ann.id, "gazebo")).toEqual(["gazebo reply", "gazebo root"]);

    const doomed = await send(w, bob, c, "walnut secret");
    await w.as(bob.id).message.delete({ messageId: doomed.id });
    expect(await found(w, ann.id, "walnut")).toEqual([]);
    expect(await found(w, ann.id, "secret")).toEqual([]);

    const edited = await send(w, ann, c, "meeting on monday");
    await w.as(ann.id).message.edit({ messageId: edited.id, content: "meeting on thursday" });
    expect(await found(w, bob.id, "monday")).toEqual([]);
    expect(await found(w, bob.id, "thursday")).toEqual(["meeting on thursday"]);
  });

  it("ignores accents and case in any script, and finds CJK text by substring", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    await send(w, ann, c, "Un Café à Paris, naïve résumé");
    await send(w, ann, c, "Привет, Мир! Встреча завтра");
    await send(w, ann, c, "明日は東京都庁で会議です");
    await send(w, ann, c, "서울특별시 회의");
    expect(await found(w, bob.id, "cafe paris")).toEqual(["Un Café à Paris, naïve résumé"]);
    expect(await found(w, bob.id, "CAFÉ naive resu")).toEqual(["Un Café à Paris, naïve résumé"]);
    expect(await found(w, bob.id, "привет мир")).toEqual(["Привет, Мир! Встреча завтра"]);
    expect(await found(w, bob.id, "ВСТРЕЧ")).toEqual(["Привет, Мир! Встреча завтра"]);
    expect(await found(w, bob.id, "東京都庁")).toEqual(["明日は東京都庁で会議です"]);
    expect(await found(w, bob.id, "京都庁")).toEqual(["明日は東京都庁で会議です"]);
    expect(await found(w, bob.id, "会議です")).toEqual(["明日は東京都庁で会議です"]);
    expect(await found(w, bob.id, "大阪府")).toEqual([]);
    expect(await found(w, bob.id, "특별시")).toEqual(["서울특별시 회의"]);
  });

  it("pages newest first with no duplicates and no gaps, like message.list's cursor", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    const sent: string[] = [];
    for (let i = 0; i < 23; i++) {
      sent.push((await send(w, i % 2 ? ann : bob, c, `pagination marker ${i}`)).id);
      if (i % 5 === 0) await send(w, ann, c, `unrelated ${i}`);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { items: { id: string }[]; nextCursor: string | null } = await w.as(bob.id).message.search({ query: "pagination marker", cursor, limit: 5 });
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      if (cursor === null) break;
      expect(page.items).toHaveLength(5);
      expect(cursor).toBe(page.items.at(-1)?.id);
    }
    expect(cursor).toBeNull();
    expect(seen).toEqual([...sent].reverse());
  });

  it("each result carries its snippet as plain text with the matched words' places", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    await send(w, ann, c, "<b>Bold</b> claims about the café");
    const [item] = (await w.as(bob.id).message.search({ query: "bold caf" })).items;
    expect(item?.snippet).toBe("<b>Bold</b> claims about the café");
    expect(item?.highlights.map(({ start, end }) => item.snippet.slice(start, end))).toEqual(["Bold", "café"]);
  });

  it("gives a next cursor only when more than a page matches, and nothing for an unknown sender", async () => {
    const w = await world();
    const [ann, bob] = await people(2);
    const c = await group(w, ann, [bob]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(w, ann, c, `ledger ${i}`)).id);
    const full = await w.as(bob.id).message.search({ query: "ledger", limit: 3 });
    expect([full.items.map((item) => item.id), full.nextCursor]).toEqual([[...ids].reverse(), null]);
    const first = await w.as(bob.id).message.search({ query: "ledger", limit: 2 });
    expect([first.items.map((item) => item.id), first.nextCursor]).toEqual([[ids[2], ids[1]], ids[1]]);
    const last = await w.as(bob.id).message.search({ query: "ledger", limit: 2, cursor: first.nextCursor });
    expect([last.items.map((item) => item.id), last.nextCursor]).toEqual([[ids[0]], null]);
    expect(await w.as(bob.id).message.search({ query: "ledger from:nobody-by-that-name" })).toEqual({ items: [], nextCursor: null });
  });

  it("limits searches per user", async () => {
    const w = await world({ searchesPerUser: { max: 2, windowSeconds: 60 } });
    const [ann, bob] = await people(2);
    await found(w, ann.id, "one");
    await found(w, ann.id, "two");
    const limited = await trpcErrorOf(w.as(ann.id).message.search({ query: "three" }));
    expect([limited.code, limited.message]).toEqual(["TOO_MANY_REQUESTS", expect.stringMatching(/^Too many searches\. Try again in \d+ seconds\.$/)]);
    // Per user: someone else still searches.
    expect(await found(w, bob.id, "three")).toEqual([]);
    w.clock.advanceSeconds(61);
    expect(await found(w, ann.id, "four")).toEqual([]);
  });

  it("refuses queries with nothing to search for, and bad limits", async () => {
    const w = await world();
    const [ann] = await people(1);
    for (const query of ["", "   ", "from:someone", `"" in:x`, "!!! ???"]) {
      expect((await trpcErrorOf(w.as(ann.id).message.search({ query }))).code, query).toBe("BAD_REQUEST");
    }
    expect((await trpcErrorOf(w.as(ann.id).message.search({ query: "x has:image" }))).code).toBe("BAD_REQUEST");
    expect((await trpcErrorOf(w.as(ann.id).message.search({ query: "x from:a from:b" }))).code).toBe("BAD_REQUEST");
    expect((await trpcErrorOf(w.as(ann.id).message.search({ query: "x".repeat(501) }))).code).toBe("BAD_REQUEST");
    expect((await trpcErrorOf(w.as(ann.id).message.search({ query: Array.from({ length: 33 }, (_, i) => `w${i}`).join(" ") }))).code).toBe("BAD_REQUEST");
    for (const limit of [0, 101, 1.5]) expect((await trpcErrorOf(w.as(ann.id).message.search({ query: "x", limit }))).code).toBe("BAD_REQUEST");
    expect((await trpcErrorOf(w.as(ann.id).message.search({ query: "x", cursor: "abc" }))).code).toBe("BAD_REQUEST");
    const twoConversations = await trpcErrorOf(w.as(ann.id).message.search({ query: "x in:a", conversationId: "b" }));
    expect([twoConversations.code, twoConversations.message]).toEqual(["BAD_REQUEST", "in: names another conversation than conversationId"]);
  });
});

describe("message.search's query and snippet", () => {
  it("reads words, phrases and filters; the last unquoted word is the prefix", () => {
    expect(parseSearchQuery('from:Bob "big plan" e-mail IN:c1 draf')).toEqual({ phrases: [["big", "plan"], ["e"], ["mail"]], prefix: "draf", from: "bob", in: "c1", hasFile: false });
    expect(parseSearchQuery('draft "big plan"')).toMatchObject({ phrases: [["draft"], ["big", "plan"]], prefix: null });
    expect(parseSearchQuery("draft has:file")).toMatchObject({ phrases: [], prefix: "draft", hasFile: true });
    expect(parseSearchQuery("has:file from:ann")).toEqual({ phrases: [], prefix: null, from: "ann", in: null, hasFile: true });
  });

  it("cuts a long content around the first match, never inside a character, and moves the highlights with it", () => {
    // The first match is 60 characters into the emoji: the cut would fall inside one.
    const content = `${"😀".repeat(100)} needle ${"word ".repeat(60)}needle end`;
    const { snippet, highlights } = snippetOf(content, { phrases: [["needle"]], prefix: null });
    expect(snippet.startsWith("…")).toBe(true);
    expect(snippet.endsWith("…")).toBe(true);
    expect(snippet.length).toBeLessThanOrEqual(202);
    // No half of a surrogate pair at either cut.
    expect(snippet).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(highlights.map(({ start, end }) => snippet.slice(start, end))).toEqual(["needle"]);
  });
});

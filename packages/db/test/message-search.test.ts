// db.search against a real SQLite file and a real PostgreSQL database: the index follows the
// group-committed bulk insert, edits and deletes in their own transactions (a rolled-back write
// leaves it as it was), a deleted message's words leave the index tables themselves, and the
// migration indexes the messages stored before it.
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { openDatabase, type Database } from "../src/client.js";
import { migrate, migrationsDir } from "../src/migrate.js";
import { asciiPatterns, type SearchRequest } from "../src/message-search.js";
import type { Provider as ProviderName } from "../src/provider.js";
import { seedConversation, tempDir, testProviders } from "./support.js";

const providers = testProviders("message search");

/** A repeatable stream of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T,>(random: () => number, from: readonly T[]): T => from[Math.floor(random() * from.length)] as T;

async function openMigrated(url: string): Promise<Database> {
  const db = await openDatabase(url);
  onTestFinished(() => db.close());
  return db;
}

/** A search of one conversation for these words, the last as a prefix. */
function request(conversationId: string, words: string[], more: Partial<SearchRequest> = {}): SearchRequest {
  return { phrases: words.slice(0, -1).map((w) => [w]), prefix: words.at(-1) ?? null, conversationIds: [conversationId], senderId: null, beforeId: null, limit: 50, ...more };
}

/** Whether the index tables hold `word` for the message, read from the tables themselves (not through db.search). */
async function indexHolds(db: Database, provider: ProviderName, messageId: bigint, word: string): Promise<boolean> {
  await db.search.catchUp();
  if (provider === "sqlite") {
    // The raw index: every token the FTS5 table keeps, with the rows that have it (its "instance" vocabulary).
    await db.prisma.$executeRawUnsafe(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."search_vocabulary" USING fts5vocab(main, "MessageSearch", instance)`);
    const rows = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS "n" FROM temp."search_vocabulary" WHERE "term" = ? AND "doc" = ?`, word, messageId);
    return Number(rows[0]?.n ?? 0) > 0;
  }
  // The index holds only rows whose deletedAt is null, with the vector of their content as it is now.
  const rows = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
    `SELECT count(*) AS "n" FROM "Message" WHERE "id" = $1 AND "deletedAt" IS NULL AND "parley_search_vector"("content", "conversationId", "senderId") @@ to_tsquery('simple', $2)`,
    messageId,
    word,
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

describe.each(providers)("db.search on $name", (provider) => {
  it.skipIf(provider.skip)("finds every message of a group-committed batch, and none of a batch its sender may not write", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const batch = await db.messages.insert(
      Array.from({ length: 30 }, (_, i) => ({ conversationId, senderId: userId, content: `batch item${i} walrus`, clientMessageId: `b-${i}` })),
    );
    expect(batch.results.every((r) => r.status === "created")).toBe(true);
    const found = await db.search.search(request(conversationId, ["walrus"]));
    expect(found.map((m) => m.content)).toEqual(Array.from({ length: 30 }, (_, i) => `batch item${29 - i} walrus`));
    expect((await db.search.search(request(conversationId, ["item7"]))).map((m) => m.clientMessageId)).toEqual(["b-7"]);

    const stranger = await db.prisma.user.create({ data: { username: `stranger-${Date.now()}`, passwordHash: "x" } });
    const refused = await db.messages.insert([{ conversationId, senderId: stranger.id, content: "intruder walrus", clientMessageId: "x" }]);
    expect(refused.results[0]?.status).toBe("not_member");
    expect(await db.search.search(request(conversationId, ["intruder"]))).toEqual([]);
  });

  it.skipIf(provider.skip)("finds matches among the newest messages and far below them, newest first", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const rows = Array.from({ length: 700 }, (_, i) => ({ conversationId, senderId: userId, content: i < 2 ? `ancient zebra ${i}` : `filler ${i}`, clientMessageId: `f-${i}` }));
    await db.messages.insert(rows);
    // More messages than PostgreSQL's first look reads (the newest 500): the two oldest are only found by the index.
    expect((await db.search.search(request(conversationId, ["zebra"]))).map((m) => m.content)).toEqual(["ancient zebra 1", "ancient zebra 0"]);
    const common = await db.search.search(request(conversationId, ["filler"], { limit: 3 }));
    expect(common.map((m) => m.content)).toEqual(["filler 699", "filler 698", "filler 697"]);
    const below = await db.search.search(request(conversationId, ["filler"], { limit: 3, beforeId: common[2]?.id ?? null }));
    expect(below.map((m) => m.content)).toEqual(["filler 696", "filler 695", "filler 694"]);
  });

  it.skipIf(provider.skip)("matches a phrase and a beginning whatever separates the words, in ASCII text and in other text, in the newest messages and below them", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const contents = ["Deploy-the  TODAY!", "naïve deploy, THE plan", "deploythe today", "the deploy", "redeploy the plan"];
    const send = (rows: string[], tag: string) => db.messages.insert(rows.map((content, i) => ({ conversationId, senderId: userId, content, clientMessageId: `${tag}-${i}` })));
    const found = async (words: string[][], prefix: string | null) =>
      (await db.search.search({ ...request(conversationId, []), phrases: words, prefix })).map((m) => m.content).sort();
    await send(contents, "p");
    const expected = { phrase: ["Deploy-the  TODAY!", "naïve deploy, THE plan"], prefix: ["Deploy-the  TODAY!", "deploythe today"] };
    expect(await found([["deploy", "the"]], null)).toEqual(expected.phrase);
    expect(await found([], "toda")).toEqual(expected.prefix);
    // Below more messages than PostgreSQL's first look reads: found through the index.
    await send(Array.from({ length: 600 }, (_, i) => `filler deploy ${i}`), "f");
    expect(await found([["deploy", "the"]], null)).toEqual(expected.phrase);
    expect(await found([], "toda")).toEqual(expected.prefix);
  });

  it.skipIf(provider.skip)("agrees with a plain reading of every message, page after page, wherever the matches lie: the newest messages, the windows after them and the index", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId: first, conversationId: a } = await seedConversation(db.prisma);
    const second = (await db.prisma.user.create({ data: { username: `second-${Date.now()}`, passwordHash: "x" } })).id;
    const b = (await db.prisma.conversation.create({ data: { title: "b", members: { create: [{ userId: first }, { userId: second }] } } })).id;
    // A small vocabulary where a few short words are in most messages and others in few, with
    // separators of every kind, accents (rows of other than ASCII text), digits inside words, and
    // rare words placed at known depths: under, inside and across the windows' edges.
    const random = seeded(14);
    const common = ["the", "the", "the", "then", "there", "they", "a", "an", "and"];
    const middling = ["meeting", "deploy", "thermal", "abc123", "x1", "café", "naïve", "theta"];
    const separators = [" ", " ", " ", ", ", "-", "_", "'", ". ", "  "];
    const total = 1_600;
    const messages = Array.from({ length: total }, (_, i) => {
      const words = Array.from({ length: 2 + Math.floor(random() * 6) }, () => (random() < 0.6 ? pick(random, common) : pick(random, middling)));
      if (i % 97 === 3 || i === total - 2) words.push(random() < 0.5 ? "zebra" : "Zébu");
      const text = words.map((w, k) => (k === 0 ? w : `${pick(random, separators)}${random() < 0.1 ? w.toUpperCase() : w}`)).join("");
      return { conversationId: i % 3 === 0 ? b : a, senderId: i % 3 === 0 && i % 2 === 0 ? second : first, content: text, clientMessageId: `r-${i}` };
    });
    for (let at = 0; at < total; at += 400) await db.messages.insert(messages.slice(at, at + 400));
    if (provider.name === "postgresql") {
      // The statistics PostgreSQL keeps for the index (which words are common) decide what it is asked.
      await db.prisma.$executeRawUnsafe(`ANALYZE "Message"`);
      const stats = await db.prisma.$queryRawUnsafe<{ words: string[] }[]>(
        `SELECT "most_common_elems"::text::text[] AS "words" FROM "pg_stats" WHERE "schemaname" = current_schema() AND "tablename" = 'Message_search_idx'`,
      );
      expect(stats[0]?.words).toContain("the");
    }
    const stored = await db.prisma.message.findMany({ select: { id: true, conversationId: true, senderId: true, content: true }, orderBy: { id: "desc" } });
    const wordsOf = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().match(/[a-z0-9]+/g) ?? [];
    const matches = (text: string, r: SearchRequest) => {
      const words = wordsOf(text);
      const has = (phrase: readonly string[]) => words.some((_, at) => phrase.every((w, k) => words[at + k] === wordsOf(w).join("")));
      return r.phrases.every(has) && (r.prefix === null || words.some((w) => w.startsWith(wordsOf(r.prefix ?? "").join(""))));
    };
    const cases: { label: string; r: SearchRequest }[] = [
      { label: "a common beginning", r: { ...request(a, ["the"]), conversationIds: [a, b] } },
      { label: "a rarer word and a common short beginning", r: { ...request(a, ["meeting", "the"]), conversationIds: [a, b] } },
      { label: "a common word and a rare short beginning", r: { ...request(a, ["the", "zeb"]), conversationIds: [a, b] } },
      { label: "a phrase across separators", r: { ...request(a, []), phrases: [["deploy", "the"]], prefix: null, conversationIds: [a, b] } },
      { label: "a sender's messages with a one-letter beginning", r: { ...request(b, ["t"]), senderId: second } },
      { label: "accents folded", r: { ...request(a, ["cafe", "naive"]), conversationIds: [a, b] } },
      { label: "a word with digits", r: request(a, ["abc123"]) },
      { label: "one conversation of two", r: request(a, ["an", "the"]) },
      { label: "a rare word, mostly below the newest messages", r: { ...request(a, ["zebra"]), conversationIds: [a, b] } },
      { label: "a rare word and a one-letter beginning", r: { ...request(a, ["zebra", "t"]), conversationIds: [a, b] } },
      { label: "a rare accented word", r: { ...request(a, ["zebu"]), conversationIds: [a, b] } },
    ];
    for (const { label, r } of cases) {
      const expected = stored.filter((m) => r.conversationIds.includes(m.conversationId) && (r.senderId === null || m.senderId === r.senderId) && matches(m.content, r)).map((m) => m.id);
      const got: bigint[] = [];
      let beforeId: bigint | null = null;
      for (let page = 0; page < 400; page += 1) {
        const rows = await db.search.search({ ...r, limit: 23, beforeId });
        got.push(...rows.map((m) => m.id));
        if (rows.length < 23) break;
        beforeId = rows.at(-1)?.id ?? null;
      }
      expect(expected.length, label).toBeGreaterThan(0);
      expect(got, label).toEqual(expected);
    }
  });

  it.skipIf(provider.skip)("finds words common apart and rare together, from the newest and below a cursor, whether the index is asked at once or after the looks", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    // "alpha" in one message in ten, "beta" in about one in six; both in one in 130. PostgreSQL's
    // statistics (ANALYZE) put the pair at about 1.7%: a page of 100 is not expected within a
    // look, so the index is asked at once; a page of 3 is, so the newest messages are looked at.
    const total = 3_000;
    const words = (i: number) => [...(i % 10 === 0 ? ["alpha"] : []), ...(i % 10 === 5 || i % 13 === 0 ? ["beta"] : [])];
    const rows = Array.from({ length: total }, (_, i) => ({ conversationId, senderId: userId, content: ["note", ...words(i), String(i)].join(" "), clientMessageId: `ab-${i}` }));
    for (let at = 0; at < rows.length; at += 1_000) await db.messages.insert(rows.slice(at, at + 1_000));
    const both = Array.from({ length: total }, (_, i) => total - 1 - i).filter((i) => words(i).length === 2);
    const ids = new Map((await db.prisma.message.findMany({ select: { id: true, content: true } })).map((m) => [m.content, m.id]));
    const contentOf = (i: number) => ["note", ...words(i), String(i)].join(" ");
    const cursorAt = both[Math.floor(both.length / 2)] ?? 0;
    const beforeId = ids.get(contentOf(cursorAt)) ?? null;
    const search = async (before: bigint | null) => (await db.search.search(request(conversationId, ["alpha", "beta"], { limit: 100, beforeId: before }))).map((m) => m.content);
    if (provider.name === "postgresql") {
      await db.prisma.$executeRawUnsafe(`ANALYZE "Message"`);
      const stats = await db.prisma.$queryRawUnsafe<{ words: string[] }[]>(
        `SELECT "most_common_elems"::text::text[] AS "words" FROM "pg_stats" WHERE "schemaname" = current_schema() AND "tablename" = 'Message_search_idx'`,
      );
      expect(stats[0]?.words).toEqual(expect.arrayContaining(["alpha", "beta"]));
    }
    expect(await search(null)).toEqual(both.map(contentOf));
    expect(await search(beforeId)).toEqual(both.filter((i) => i < cursorAt).map(contentOf));
    // A page the looks can fill: the first look (500 messages) holds more than 3.
    const few = await db.search.search(request(conversationId, ["alpha", "beta"], { limit: 3 }));
    expect(few.map((m) => m.content)).toEqual(both.slice(0, 3).map(contentOf));
  });

  it.skipIf(provider.skip)("pages through a word dense among the newest messages and sparse below them, through every look and the index", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    // 10,000 messages: "kiwi" in one in ten of the newest 1,500, one in a hundred below. PostgreSQL
    // looks at the newest 500, then at more as the density found asks (up to 8,000), then asks
    // the index below them: each boundary is crossed by the pages.
    // Among the newest, each message is followed by four of another conversation: ids are five
    // times sparser there than below, so a look sized by the first look's ids reaches its size.
    const total = 10_000;
    const kiwi = (i: number) => (i >= total - 1_500 ? i % 10 === 0 : i % 100 === 7);
    const other = (await db.prisma.conversation.create({ data: { title: "other", members: { create: { userId } } } })).id;
    const rows = Array.from({ length: total }, (_, i) => [
      { conversationId, senderId: userId, content: kiwi(i) ? `kiwi ${i}` : `filler ${i}`, clientMessageId: `k-${i}` },
      ...(i >= total - 1_500 ? Array.from({ length: 4 }, (_, k) => ({ conversationId: other, senderId: userId, content: `kiwi elsewhere ${i}`, clientMessageId: `o-${i}-${k}` })) : []),
    ]).flat();
    for (let at = 0; at < rows.length; at += 1_000) await db.messages.insert(rows.slice(at, at + 1_000));
    const expected = Array.from({ length: total }, (_, i) => total - 1 - i).filter(kiwi).map((i) => `kiwi ${i}`);
    for (const limit of [200, 37]) {
      const got: string[] = [];
      let beforeId: bigint | null = null;
      for (let page = 0; page < 100; page += 1) {
        const rows = await db.search.search(request(conversationId, ["kiwi"], { limit, beforeId }));
        got.push(...rows.map((m) => m.content));
        if (rows.length < limit) break;
        beforeId = rows.at(-1)?.id ?? null;
      }
      expect(got, `pages of ${limit}`).toEqual(expected);
    }
  });

  it.skipIf(provider.skip)("has:file: only messages with files, with words or alone, of a sender, page after page past the windows, none of a deleted message", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId: first, conversationId: a } = await seedConversation(db.prisma);
    const second = (await db.prisma.user.create({ data: { username: `second-${Date.now()}`, passwordHash: "x" } })).id;
    await db.prisma.conversationMember.create({ data: { conversationId: a, userId: second } });
    const other = (await db.prisma.conversation.create({ data: { title: "other", members: { create: [{ userId: first }] } } })).id;
    // 1,300 messages, every second one with a file (two files on some): more than the windows of
    // messages with files read at a time; "report" in every third; a file in another conversation.
    const total = 1_300;
    const uploads = Array.from({ length: total }, (_, i) => (i % 2 === 0 ? [`f${i}`, ...(i % 10 === 0 ? [`g${i}`] : [])] : []));
    const senderOf = (i: number) => (i % 4 === 0 ? second : first);
    await db.prisma.attachment.createMany({
      data: uploads.flatMap((ids, i) => ids.map((id) => ({ id, conversationId: a, uploaderId: senderOf(i), name: `${id}.pdf`, size: 10, contentType: "application/pdf", storageKey: `key-${id}` }))),
    });
    await db.prisma.attachment.create({ data: { id: "elsewhere", conversationId: other, uploaderId: first, name: "e.pdf", size: 1, contentType: "application/pdf", storageKey: "key-e" } });
    const content = (i: number) => (i % 3 === 0 ? `quarterly report ${i}` : `note ${i}`);
    for (let at = 0; at < total; at += 400) {
      const batch = Array.from({ length: Math.min(400, total - at) }, (_, k) => at + k).map((i) => ({ conversationId: a, senderId: senderOf(i), content: content(i), clientMessageId: `h-${i}`, attachmentIds: uploads[i] ?? [] }));
      const { results } = await db.messages.insert(batch);
      expect(results.every((r) => r.status === "created")).toBe(true);
    }
    await db.messages.insert([{ conversationId: other, senderId: first, content: "quarterly report elsewhere", clientMessageId: "e", attachmentIds: ["elsewhere"] }]);
    // A deleted message with a file, as message.delete leaves it: no attachment rows, content emptied.
    const victim = await db.prisma.message.findFirstOrThrow({ where: { clientMessageId: "h-1296" } });
    await db.prisma.attachment.deleteMany({ where: { messageId: victim.id } });
    await db.prisma.message.update({ where: { id: victim.id }, data: { content: "", attachments: "[]", deletedAt: new Date() } });

    const stored = await db.prisma.message.findMany({ where: { conversationId: a, deletedAt: null }, select: { id: true, senderId: true, content: true, attachments: true }, orderBy: { id: "desc" } });
    const all = async (r: SearchRequest) => {
      const got: bigint[] = [];
      let beforeId: bigint | null = null;
      for (let page = 0; page < 200; page += 1) {
        const rows = await db.search.search({ ...r, limit: 40, beforeId });
        got.push(...rows.map((m) => m.id));
        if (rows.length < 40) break;
        beforeId = rows.at(-1)?.id ?? null;
      }
      return got;
    };
    const withFiles = stored.filter((m) => m.attachments !== "[]");
    expect(withFiles.length).toBe(total / 2 - 1);
    expect(await all({ ...request(a, []), withFiles: true })).toEqual(withFiles.map((m) => m.id));
    expect(await all({ ...request(a, ["report"]), withFiles: true })).toEqual(withFiles.filter((m) => m.content.includes("report")).map((m) => m.id));
    expect(await all({ ...request(a, ["rep"]), withFiles: true, senderId: second })).toEqual(
      withFiles.filter((m) => m.content.includes("report") && m.senderId === second).map((m) => m.id),
    );
    expect(await all({ ...request(a, []), phrases: [["quarterly", "report"]], prefix: null, withFiles: true })).toEqual(
      withFiles.filter((m) => m.content.includes("quarterly report")).map((m) => m.id),
    );
    // Without has:file, the same words find the messages without files too.
    expect((await all(request(a, ["report"]))).length).toBe(stored.filter((m) => m.content.includes("report")).length);
    // Both conversations: the other one's file too; none of the deleted message.
    const both = await all({ ...request(a, ["report"]), conversationIds: [a, other], withFiles: true });
    expect(both[0]).toBe((await db.prisma.message.findFirstOrThrow({ where: { clientMessageId: "e" } })).id);
    expect(both).not.toContain(victim.id);
    expect(await all({ ...request(a, ["nothingsuch"]), withFiles: true })).toEqual([]);
  });

  it.skipIf(provider.skip)("follows edits and deletes, and a rolled-back edit changes nothing", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    const [outcome] = (await db.messages.insert([{ conversationId, senderId: userId, content: "original pelican", clientMessageId: "e" }])).results;
    if (outcome?.status !== "created") throw new Error("not stored");
    const id = outcome.message.id;
    expect(await indexHolds(db, provider.name, id, "pelican")).toBe(true);

    await db.prisma.message.update({ where: { id }, data: { content: "revised flamingo", editedAt: new Date() } });
    expect(await db.search.search(request(conversationId, ["pelican"]))).toEqual([]);
    expect((await db.search.search(request(conversationId, ["flamingo"]))).map((m) => m.id)).toEqual([id]);
    expect(await indexHolds(db, provider.name, id, "pelican")).toBe(false);

    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.message.update({ where: { id }, data: { content: "abandoned heron" } });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await db.search.search(request(conversationId, ["heron"]))).toEqual([]);
    expect((await db.search.search(request(conversationId, ["flamingo"]))).map((m) => m.id)).toEqual([id]);

    // A delete as message.delete writes it: the tombstone keeps its row, its content is emptied.
    await db.prisma.message.update({ where: { id }, data: { content: "", mentions: "[]", reactions: "[]", deletedAt: new Date() } });
    expect(await db.search.search(request(conversationId, ["flamingo"]))).toEqual([]);
    expect(await indexHolds(db, provider.name, id, "flamingo")).toBe(false);
    expect(await indexHolds(db, provider.name, id, "revised")).toBe(false);
    if (provider.name === "sqlite") {
      // Nothing of the message is left in either index: no token names its row.
      await db.prisma.$executeRawUnsafe(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."cjk_vocabulary" USING fts5vocab(main, "MessageSearchCjk", instance)`);
      for (const table of ["search_vocabulary", "cjk_vocabulary"]) {
        const left = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS "n" FROM temp."${table}" WHERE "doc" = ?`, id);
        expect(Number(left[0]?.n)).toBe(0);
      }
    }
  });

  // SQLite only (PostgreSQL keeps old row versions until VACUUM, as SECURITY.md says): not registered for it.
  const sqliteOnly = provider.name === "sqlite" ? it : () => undefined;
  sqliteOnly("a deleted message's words leave the bytes of the SQLite file, index pages included", async () => {
    const url = await provider.url();
    await migrate(url);
    const db = await openMigrated(url);
    const { userId, conversationId } = await seedConversation(db.prisma);
    // One word, longer than any other in the file: the index keeps it whole as the first term of a page.
    const word = "quixoticzephyrwordlongerthananyother";
    const [outcome] = (await db.messages.insert([{ conversationId, senderId: userId, content: word, clientMessageId: "w" }])).results;
    if (outcome?.status !== "created") throw new Error("not stored");
    const path = url.slice("file:".length);
    const inFile = () => [path, `${path}-wal`].filter((p) => existsSync(p)).some((p) => readFileSync(p).includes(Buffer.from(word)));
    await db.scrubRemovedContent();
    // Also in the index: the only copy of it left once the row is emptied.
    expect(inFile()).toBe(true);
    await db.prisma.message.update({ where: { id: outcome.message.id }, data: { content: "", deletedAt: new Date() } });
    await db.scrubRemovedContent();
    expect(await db.search.search(request(conversationId, [word]))).toEqual([]);
    expect(inFile()).toBe(false);
  });

  it.skipIf(provider.skip)("the migration indexes the messages stored before it", async () => {
    const url = await provider.url();
    // Every migration but the search one, then messages, then the search migration.
    const all = readdirSync(migrationsDir(provider.name)).sort();
    const searchMigration = all.find((name) => name.endsWith("_message_search"));
    if (!searchMigration) throw new Error("no message_search migration");
    const earlier = tempDir();
    for (const name of all.filter((n) => n < searchMigration)) cpSync(join(migrationsDir(provider.name), name), join(earlier, name), { recursive: true });
    await migrate(url, earlier);
    {
      const before = await openDatabase(url);
      try {
        const { userId, conversationId } = await seedConversation(before.prisma);
        // In SQL: today's message store and client know columns that later migrations add.
        await before.prisma.$executeRaw`INSERT INTO "Message" ("id", "conversationId", "senderId", "content", "clientMessageId") VALUES (1, ${conversationId}, ${userId}, ${"stored before the index: Café 東京都庁"}, ${"old-1"})`;
        await before.prisma.$executeRaw`INSERT INTO "Message" ("id", "conversationId", "senderId", "content", "clientMessageId", "deletedAt") VALUES (2, ${conversationId}, ${userId}, ${""}, ${"old-2"}, CURRENT_TIMESTAMP)`;
      } finally {
        await before.close();
      }
    }
    expect((await migrate(url)).applied).toEqual(all.filter((n) => n >= searchMigration));
    const db = await openMigrated(url);
    const conversationId = (await db.prisma.conversation.findFirstOrThrow()).id;
    expect((await db.search.search(request(conversationId, ["cafe"]))).map((m) => m.clientMessageId)).toEqual(["old-1"]);
    expect((await db.search.search(request(conversationId, ["京都庁"]))).map((m) => m.clientMessageId)).toEqual(["old-1"]);
  });
});

describe("asciiPatterns", () => {
  it("asks for each word, a phrase's words with separators only between them, and the last as a beginning", () => {
    expect(asciiPatterns({ phrases: [["deploy", "the"], ["plan"]], prefix: "tod" })).toEqual([
      "(^|[^a-z0-9])deploy[^a-z0-9]+the([^a-z0-9]|$)",
      "(^|[^a-z0-9])plan([^a-z0-9]|$)",
      "(^|[^a-z0-9])tod",
    ]);
  });

  it("leaves CJK words to the index, and gives up on a word that is not ASCII", () => {
    expect(asciiPatterns({ phrases: [["东京"]], prefix: "plan" })).toEqual(["(^|[^a-z0-9])plan"]);
    expect(asciiPatterns({ phrases: [["a", "东京", "b"]], prefix: null })).toEqual(["(^|[^a-z0-9])a.*b([^a-z0-9]|$)"]);
    expect(asciiPatterns({ phrases: [], prefix: "café" })).toBeNull();
  });
});

// user.list, user.search, message.send's limit and message.list's pages (both ways, and around a message), through the procedures
// against a real database, on each provider (their SQL differs: LIKE or ILIKE, bound parameters);
// and message.live's replay from before the event log, by membership now.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext, createServices, defaultApiConfig, type Services } from "../src/context.js";
import { messagesForUserAfter, sendMessage } from "../src/domain/messages.js";
import { toMessageDto } from "../src/domain/selects.js";
import { REPLAY_PAGE } from "../src/live/feed-stream.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import { describeEachProvider, openTestDatabase, testConfig, trpcErrorOf, type TestDatabase } from "./helpers.js";

describeEachProvider("users and messages", (provider) => {
  let database: TestDatabase;
  let services: Services;
  const ids = new Map<string, string>();

  /** Users stored directly (how accounts are made is not what these tests are about). */
  const people = [
    ["ann", "Ann Archer"],
    ["anna_b", "Anna Baker"],
    ["annex", "Zed Annex"],
    ["bo%b", "Bob Percent"],
    ["boxb", "Box B"],
    ["carl", "Annabel Carl"],
    ["dora", "Dora Explorer"],
    ["elodie", "Élodie Sørensen"],
    ["eve", "Back\\slash Eve"],
    ["ivan", "Ivan Petrov"],
    ["jorg", "JÖRG ÅSTRÖM"],
  ] as const;

  beforeAll(async () => {
    database = await openTestDatabase(provider);
    const limits = { ...defaultApiConfig.limits, messagesPerUser: { max: 3, windowSeconds: 60 } };
    services = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig({ limits }) });
    // Stored out of username order, so that an unordered read would not pass for an ordered one.
    for (const [username, fullName] of [...people].reverse()) {
      const user = await database.db.prisma.user.create({ data: { username, fullName, passwordHash: "-" }, select: { id: true } });
      ids.set(username, user.id);
    }
  });

  afterAll(async () => {
    services.close();
    await database.dispose();
  });

  function idOf(username: string): string {
    const id = ids.get(username);
    if (!id) throw new Error(`no user ${username}`);
    return id;
  }

  function callerOf(username: string) {
    return createCaller(createContext(services, services.tokens.issueAccess(idOf(username), `session-${username}`)));
  }

  describe("user.list", () => {
    it("pages through every user by username", async () => {
      const caller = callerOf("ann");
      const first = await caller.user.list({ limit: 4 });
      const second = await caller.user.list({ limit: 4, cursor: first.at(-1)?.username });
      const third = await caller.user.list({ limit: 4, cursor: second.at(-1)?.username });
      expect([...first, ...second, ...third].map((u) => u.username)).toEqual(people.map(([username]) => username).sort());
      expect(first[0]).toEqual({ id: idOf("ann"), username: "ann", fullName: "Ann Archer" });
    });
  });

  describe("user.search", () => {
    const search = async (query: string, limit?: number) =>
      (await callerOf("dora").user.search({ query, limit })).map((u) => u.username);

    it("finds users whose username or full name starts with the query, ignoring case, by username", async () => {
      expect(await search("ANN")).toEqual(["ann", "anna_b", "annex", "carl"]);
    });

    it("finds a full name with letters beyond ASCII, whatever case its words are typed in", async () => {
      // Capitalised words, as names are usually written.
      expect(await search("élodie sø")).toEqual(["elodie"]);
      expect(await search("ÉLODIE SØ")).toEqual(["elodie"]);
      // Written all in capitals.
      expect(await search("jörg å")).toEqual(["jorg"]);
    });

    it("matches at the start only", async () => {
      expect(await search("nex")).toEqual([]);
    });

    it("takes % and _ literally", async () => {
      expect(await search("bo%")).toEqual(["bo%b"]);
      expect(await search("anna_")).toEqual(["anna_b"]);
      expect(await search("%")).toEqual([]);
      expect(await search("_")).toEqual([]);
    });

    it("takes the escape character itself literally", async () => {
      expect(await search("back\\s")).toEqual(["eve"]);
      expect(await search("back\\x")).toEqual([]);
    });

    it("does not take a non-ASCII letter for the ASCII one that shares its capital (ı is not i)", async () => {
      expect(await search("ı")).toEqual([]);
      expect(await search("iv")).toEqual(["ivan"]);
    });

    it("returns at most `limit` users", async () => {
      expect(await search("ann", 2)).toEqual(["ann", "anna_b"]);
    });
  });

  describe("message.send over the sender's limit", () => {
    it("answers a retry of a stored message, does not count retries, and refuses new ones", async () => {
      const { id: conversationId } = await callerOf("ann").conversation.create({ title: "limits", memberIds: [idOf("carl")] });
      const caller = callerOf("ann");
      const send = (clientMessageId: string) => caller.message.send({ conversationId, content: clientMessageId, clientMessageId });
      const first = await send("first");
      expect(await send("first")).toEqual(first);
      await send("second");
      await send("third");
      expect(await send("first")).toEqual(first);
      const error = await trpcErrorOf(send("fourth"));
      expect(error.code).toBe("TOO_MANY_REQUESTS");
      expect(error.message).toMatch(/Try again in \d+ seconds/);
      expect(await database.db.prisma.message.count({ where: { conversationId } })).toBe(3);
    });
  });

  describe("message.send by someone who is not a member (past the procedure's check)", () => {
    it("is refused as forbidden, and stores nothing", async () => {
      const { id: conversationId } = await callerOf("ann").conversation.create({ title: "closed", memberIds: [idOf("carl")] });
      const refused = sendMessage(services, idOf("ivan"), { conversationId, content: "let me in", clientMessageId: randomUUID() });
      await expect(refused).rejects.toMatchObject({ kind: "forbidden", message: "You are not a member of this conversation" });
      expect(await database.db.prisma.message.count({ where: { conversationId } })).toBe(0);
    });
  });

  describe("message.live's replay from before the event log", () => {
    /** Messages stored directly (with their events), their ids in order. */
    async function stored(conversationId: string, senderName: string, count: number): Promise<bigint[]> {
      const { results } = await database.db.messages.insert(
        Array.from({ length: count }, (_, i) => ({ conversationId, senderId: idOf(senderName), content: `${senderName} ${i}`, clientMessageId: randomUUID() })),
      );
      return results.map((result) => {
        if (result.status !== "created") throw new Error("not stored");
        return result.message.id;
      });
    }

    it("gives the messages after the position in the caller's conversations, oldest first, as message entries", async () => {
      const { id: theirs } = await callerOf("dora").conversation.create({ title: "replay", memberIds: [idOf("boxb")] });
      const { id: others } = await callerOf("ivan").conversation.create({ title: "not dora's", memberIds: [idOf("boxb")] });
      const [before] = await stored(theirs, "boxb", 1);
      const afterId = before ?? 0n;
      const [first] = await stored(theirs, "dora", 1);
      await stored(others, "ivan", 2);
      const [second] = await stored(theirs, "boxb", 1);
      const replay = await messagesForUserAfter(services, idOf("dora"), afterId);
      const expected = await database.db.prisma.message.findMany({ where: { id: { in: [first ?? 0n, second ?? 0n] } }, orderBy: { id: "asc" } });
      expect(replay.entries).toEqual(expected.map((row) => ({ kind: "message.created", id: row.id.toString(), message: toMessageDto(row) })));
      expect(replay.lastId).toBe(second);
      expect(replay.rows).toBe(2);
      // Nothing after the last: the position stays where it was.
      expect(await messagesForUserAfter(services, idOf("dora"), second ?? 0n)).toEqual({ entries: [], lastId: second, rows: 0 });
    });

    it("gives one page at a time", async () => {
      const { id: conversationId } = await callerOf("eve").conversation.create({ title: "busy", memberIds: [idOf("boxb")] });
      const ids = await stored(conversationId, "boxb", REPLAY_PAGE + 1);
      const afterId = (ids[0] ?? 0n) - 1n;
      const page = await messagesForUserAfter(services, idOf("eve"), afterId);
      expect(page.rows).toBe(REPLAY_PAGE);
      expect(page.entries.map((e) => e.id)).toEqual(ids.slice(0, REPLAY_PAGE).map(String));
      expect(page.lastId).toBe(ids[REPLAY_PAGE - 1]);
      const rest = await messagesForUserAfter(services, idOf("eve"), page.lastId);
      expect(rest.entries.map((e) => e.id)).toEqual([String(ids[REPLAY_PAGE])]);
    });
  });

  describe("message.list", () => {
    it("pages from the newest back, each page oldest first, with the cursor of the next", async () => {
      const { id: conversationId } = await callerOf("dora").conversation.create({ title: "pages", memberIds: [idOf("carl")] });
      // Stored directly (with their events), unannounced: how they were sent is not what this is about.
      await database.db.messages.insert(Array.from({ length: 5 }, (_, i) => ({ conversationId, senderId: idOf("dora"), content: `m${i + 1}`, clientMessageId: randomUUID() })));
      const caller = callerOf("carl");
      const contents = (page: { items: { content: string }[] }) => page.items.map((m) => m.content);
      const newest = await caller.message.list({ conversationId, limit: 2 });
      expect(contents(newest)).toEqual(["m4", "m5"]);
      expect(newest.nextCursor).toBe(newest.items[0]?.id);
      const middle = await caller.message.list({ conversationId, limit: 2, cursor: newest.nextCursor });
      expect(contents(middle)).toEqual(["m2", "m3"]);
      const oldest = await caller.message.list({ conversationId, limit: 2, cursor: middle.nextCursor });
      expect(contents(oldest)).toEqual(["m1"]);
      expect(oldest.nextCursor).toBeNull();
      const exact = await caller.message.list({ conversationId, limit: 5 });
      expect(contents(exact)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
      expect(exact.nextCursor).toBeNull();
    });

    /** A conversation of dora and carl with m1..m`count` stored directly; returns its id and the messages' ids, oldest first. */
    async function history(title: string, count: number) {
      const { id: conversationId } = await callerOf("dora").conversation.create({ title, memberIds: [idOf("carl")] });
      const { results } = await database.db.messages.insert(
        Array.from({ length: count }, (_, i) => ({ conversationId, senderId: idOf("dora"), content: `m${i + 1}`, clientMessageId: randomUUID() })),
      );
      return { conversationId, ids: results.map((r) => ("message" in r ? r.message.id.toString() : "")) };
    }
    const contents = (page: { items: { content: string }[] }) => page.items.map((m) => m.content);

    it("around: the message with the older half and the newer half of the limit, and cursors both ways", async () => {
      const { conversationId, ids } = await history("around", 9);
      const caller = callerOf("carl");
      const window = await caller.message.list({ conversationId, limit: 4, around: ids[4] });
      expect(contents(window)).toEqual(["m4", "m5", "m6", "m7"]);
      expect(window.nextCursor).toBe(ids[3]);
      expect(window.newerCursor).toBe(ids[6]);
      expect(contents(await caller.message.list({ conversationId, limit: 4, cursor: window.nextCursor }))).toEqual(["m1", "m2", "m3"]);
      const newer = await caller.message.list({ conversationId, limit: 4, after: window.newerCursor });
      expect(contents(newer)).toEqual(["m8", "m9"]);
      expect(newer).toMatchObject({ nextCursor: ids[7], newerCursor: null });
    });

    it("around near either end: cursors are null where the list ends", async () => {
      const { conversationId, ids } = await history("ends", 3);
      const caller = callerOf("carl");
      expect(await caller.message.list({ conversationId, limit: 10, around: ids[1] })).toMatchObject({ nextCursor: null, newerCursor: null });
      const oldest = await caller.message.list({ conversationId, limit: 2, around: ids[0] });
      expect(contents(oldest)).toEqual(["m1", "m2"]);
      expect(oldest).toMatchObject({ nextCursor: null, newerCursor: ids[1] });
      const newest = await caller.message.list({ conversationId, limit: 2, around: ids[2] });
      expect(contents(newest)).toEqual(["m3"]);
      expect(newest).toMatchObject({ nextCursor: ids[2], newerCursor: null });
    });

    it("after: pages towards the newest, oldest first, until newerCursor is null; nextCursor is null only with nothing older", async () => {
      const { conversationId, ids } = await history("after", 5);
      const caller = callerOf("carl");
      const first = await caller.message.list({ conversationId, limit: 2, after: ids[0] });
      expect(contents(first)).toEqual(["m2", "m3"]);
      expect(first).toMatchObject({ nextCursor: ids[1], newerCursor: ids[2] });
      // Its nextCursor goes on below it, as a cursor page's does.
      expect(contents(await caller.message.list({ conversationId, limit: 2, cursor: first.nextCursor }))).toEqual(["m1"]);
      const last = await caller.message.list({ conversationId, limit: 2, after: first.newerCursor });
      expect(contents(last)).toEqual(["m4", "m5"]);
      expect(last.newerCursor).toBeNull();
      expect(await caller.message.list({ conversationId, limit: 2, after: ids[4] })).toEqual({ items: [], nextCursor: null, newerCursor: null });
      // An id below every message of it: the whole list is newer, nothing older.
      expect(await caller.message.list({ conversationId, limit: 10, after: "1" })).toMatchObject({ nextCursor: null, newerCursor: null });
    });

    it("a page from the newest back has no newerCursor, as in v1", async () => {
      const { conversationId } = await history("v1", 3);
      expect(await callerOf("carl").message.list({ conversationId, limit: 2 })).not.toHaveProperty("newerCursor");
    });

    it("around a message of another conversation, a reply, or no message is NOT_FOUND", async () => {
      const { conversationId, ids } = await history("target", 2);
      const elsewhere = await history("elsewhere", 1);
      const reply = await sendMessage(services, idOf("carl"), { conversationId, content: "a reply", clientMessageId: randomUUID(), threadId: ids[0] });
      const caller = callerOf("carl");
      for (const around of [elsewhere.ids[0], reply.id, "999999999"]) {
        expect((await trpcErrorOf(caller.message.list({ conversationId, around }))).code).toBe("NOT_FOUND");
      }
      // In the thread, the reply is found.
      expect(contents(await caller.message.list({ conversationId, threadId: ids[0], around: reply.id }))).toEqual(["a reply"]);
    });

    it("around and after of a conversation the caller is not a member of is FORBIDDEN, as without them", async () => {
      const { conversationId, ids } = await history("members only", 2);
      const outsider = callerOf("eve");
      for (const input of [{ conversationId }, { conversationId, around: ids[0] }, { conversationId, after: ids[0] }]) {
        expect((await trpcErrorOf(outsider.message.list(input))).code).toBe("FORBIDDEN");
      }
    });

    it("more than one of cursor, around and after is BAD_REQUEST", async () => {
      const { conversationId, ids } = await history("one way", 2);
      const caller = callerOf("carl");
      for (const input of [{ cursor: ids[1], around: ids[0] }, { cursor: ids[1], after: ids[0] }, { around: ids[1], after: ids[0] }]) {
        expect((await trpcErrorOf(caller.message.list({ conversationId, ...input }))).code).toBe("BAD_REQUEST");
      }
    });
  });
});

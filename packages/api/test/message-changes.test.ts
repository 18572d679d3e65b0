// Edit, delete, reactions and replies (contract v2) through the procedures, on each provider: who may
// change what, what is stored, how the members' unread and mention counts move, the events each
// change appends to the log, and the changes' rate limit. The server's integration tests cover the
// same rules over the wire; these are here so that mutation testing of the domain code sees them.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { deleteMessage, editMessage, reactToMessage, storeReply } from "../src/domain/message-changes.js";
import { sendMessage } from "../src/domain/messages.js";
import { MAX_REACTIONS_PER_MESSAGE, type MessageDto } from "../src/schemas.js";
import { describeEachProvider, suiteDatabase, trpcErrorOf } from "./helpers.js";
import { scenes, type Person } from "./scenes.js";

describeEachProvider("message changes", (provider) => {
  const suite = suiteDatabase(provider);
  const { world, people, send, insert, group, countsOf, storedMessage, latestEventId, eventsAfter } = scenes(suite);

  describe("message.edit", () => {
    it("replaces the content, re-resolves the mentions in written order, and sets editedAt", async () => {
      const w = await world();
      const [alice, bob, carol, outsider] = await people(4);
      const conversationId = await group(w, alice, [bob, carol]);
      const sent = await send(w, alice, conversationId, "hello");
      w.clock.advanceSeconds(90);
      const edited = await w.as(alice.id).message.edit({ messageId: sent.id, content: `hi @${carol.name} and @${bob.name}, not @${outsider.name}` });
      const editedAt = new Date("2030-01-01T00:01:30.000Z").toISOString();
      expect(edited).toEqual({ ...sent, content: `hi @${carol.name} and @${bob.name}, not @${outsider.name}`, mentions: [carol.id, bob.id], editedAt });
      expect(await storedMessage(sent.id)).toEqual(edited);
      const swapped = await w.as(alice.id).message.edit({ messageId: sent.id, content: `@${bob.name} @${carol.name}` });
      expect(swapped.mentions).toEqual([bob.id, carol.id]);
      await expect(w.as(alice.id).message.edit({ messageId: sent.id, content: "no one" })).resolves.toMatchObject({ mentions: [] });
    });

    it("appends message.updated by the editor, and a recount only for the members whose mention count changed", async () => {
      const w = await world();
      const [alice, bob, carol, dave] = await people(4);
      const conversationId = await group(w, alice, [bob, carol, dave]);
      const first = await send(w, alice, conversationId, "first");
      const message = await send(w, alice, conversationId, "second");
      // Bob has read the message itself, Dave only the one before it, Carol nothing.
      await w.as(bob.id).conversation.markRead({ conversationId, messageId: message.id });
      await w.as(dave.id).conversation.markRead({ conversationId, messageId: first.id });
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: message.id, unreadCount: 0, mentionCount: 0 });
      expect(await countsOf(conversationId, carol)).toEqual({ lastReadMessageId: null, unreadCount: 2, mentionCount: 0 });
      expect(await countsOf(conversationId, dave)).toEqual({ lastReadMessageId: first.id, unreadCount: 1, mentionCount: 0 });

      let mark = await latestEventId();
      await w.as(alice.id).message.edit({ messageId: message.id, content: `@${bob.name} @${carol.name} @${dave.name} @${alice.name}` });
      expect(await eventsAfter(mark)).toEqual([
        { kind: "message.updated", conversationId, messageId: message.id, userId: alice.id, data: null },
        {
          kind: "read.updated",
          conversationId,
          messageId: message.id,
          userId: null,
          data: {
            reads: {
              [carol.id]: { lastReadMessageId: null, unreadCount: 2, mentionCount: 1 },
              [dave.id]: { lastReadMessageId: first.id, unreadCount: 1, mentionCount: 1 },
            },
          },
        },
      ]);
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: message.id, unreadCount: 0, mentionCount: 0 });
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: message.id, unreadCount: 0, mentionCount: 0 });

      // Carol is no longer mentioned, Dave still is: only Carol's counts change.
      mark = await latestEventId();
      await w.as(alice.id).message.edit({ messageId: message.id, content: `@${dave.name} @${bob.name}` });
      expect(await eventsAfter(mark)).toEqual([
        { kind: "message.updated", conversationId, messageId: message.id, userId: alice.id, data: null },
        { kind: "read.updated", conversationId, messageId: message.id, userId: null, data: { reads: { [carol.id]: { lastReadMessageId: null, unreadCount: 2, mentionCount: 0 } } } },
      ]);
      expect(await countsOf(conversationId, dave)).toEqual({ lastReadMessageId: first.id, unreadCount: 1, mentionCount: 1 });

      // No mention gained or lost by anyone it is unread for: no recount.
      mark = await latestEventId();
      await w.as(alice.id).message.edit({ messageId: message.id, content: `@${dave.name} again` });
      expect(await eventsAfter(mark)).toEqual([{ kind: "message.updated", conversationId, messageId: message.id, userId: alice.id, data: null }]);

      mark = await latestEventId();
      await w.as(alice.id).message.edit({ messageId: message.id, content: "nobody" });
      expect((await eventsAfter(mark)).map((e) => e.data)).toEqual([null, { reads: { [dave.id]: { lastReadMessageId: first.id, unreadCount: 1, mentionCount: 0 } } }]);
      expect(await countsOf(conversationId, carol)).toEqual({ lastReadMessageId: null, unreadCount: 2, mentionCount: 0 });
    });

    it("is the sender's only: anyone else is FORBIDDEN and nothing changes", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const sent = await send(w, bob, conversationId, "mine");
      const mark = await latestEventId();
      // Not even the group's owner.
      const error = await trpcErrorOf(w.as(alice.id).message.edit({ messageId: sent.id, content: "yours" }));
      expect(error.code).toBe("FORBIDDEN");
      expect(error.message).toBe("Only the sender can edit a message");
      expect(await storedMessage(sent.id)).toEqual(sent);
      expect(await eventsAfter(mark)).toEqual([]);
    });

    it("refuses a deleted message with BAD_REQUEST", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const sent = await send(w, bob, conversationId, "soon gone");
      const tombstone = await w.as(bob.id).message.delete({ messageId: sent.id });
      const error = await trpcErrorOf(w.as(bob.id).message.edit({ messageId: sent.id, content: "back" }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toBe("A deleted message cannot be edited");
      expect(await storedMessage(sent.id)).toEqual(tombstone);
    });

    it("with the same content changes nothing, appends nothing and costs nothing", async () => {
      const w = await world({ messageChangesPerUser: { max: 1, windowSeconds: 600 } });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const sent = await send(w, alice, conversationId, `hi @${bob.name}`);
      const mark = await latestEventId();
      w.clock.advanceSeconds(5);
      for (let i = 0; i < 3; i++) expect(await w.as(alice.id).message.edit({ messageId: sent.id, content: `hi @${bob.name}` })).toEqual(sent);
      expect(await eventsAfter(mark)).toEqual([]);
      // The budget of one is still there.
      await expect(w.as(alice.id).message.edit({ messageId: sent.id, content: "changed" })).resolves.toMatchObject({ content: "changed" });
    });
    it("to empty or blank: refused for words alone, unchanged; a message with files keeps its files and no words", async () => {
      const w = await world({}, { files: true });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const words = await send(w, alice, conversationId, "just words");
      for (const [content, message] of [
        ["", "message must be 1 to 4000 characters"],
        [" \u200b\n", "message must not be only white space"],
      ] as const) {
        const error = await trpcErrorOf(w.as(alice.id).message.edit({ messageId: words.id, content }));
        expect([error.code, error.message]).toEqual(["BAD_REQUEST", message]);
      }
      expect(await storedMessage(words.id)).toEqual(words);
      const upload = await w.services.files.upload({ userId: alice.id, conversationId, name: "plan.txt", declaredLength: null, body: Readable.from([Buffer.from("the plan")]) });
      const withFile = await w.as(alice.id).message.send({ conversationId, content: "see the plan", clientMessageId: randomUUID(), attachmentIds: [upload.id] });
      const edited = await w.as(alice.id).message.edit({ messageId: withFile.id, content: "  " });
      expect(edited).toMatchObject({ content: "", editedAt: expect.any(String), attachments: [{ id: upload.id, name: "plan.txt" }] });
      expect(await storedMessage(withFile.id)).toEqual(edited);
    });
  });

  describe("message.delete", () => {
    /** Alice owns a group with Bob, Carol and Dave; Bob's message mentions Carol and Dave, Carol has read it. */
    async function scene() {
      const w = await world();
      const [alice, bob, carol, dave] = await people(4);
      const conversationId = await group(w, alice, [bob, carol, dave]);
      const before = await send(w, alice, conversationId, "first");
      const message = await send(w, bob, conversationId, `hey @${carol.name} @${dave.name}`);
      await w.as(carol.id).conversation.markRead({ conversationId, messageId: message.id });
      return { w, alice, bob, carol, dave, conversationId, before, message };
    }

    it("by the sender: empties content, mentions and reactions, and keeps a tombstone in its place", async () => {
      const { w, bob, carol, conversationId, before, message } = await scene();
      await w.as(carol.id).message.react({ messageId: message.id, emoji: "👍", on: true });
      await w.as(carol.id).message.react({ messageId: before.id, emoji: "👍", on: true });
      w.clock.advanceSeconds(30);
      const deleted = await w.as(bob.id).message.delete({ messageId: message.id });
      const deletedAt = new Date("2030-01-01T00:00:30.000Z").toISOString();
      expect(deleted).toEqual({ ...message, content: "", mentions: [], reactions: [], deletedAt });
      expect(await storedMessage(message.id)).toEqual(deleted);
      const { prisma } = suite.database.db;
      expect(await prisma.reaction.count({ where: { messageId: BigInt(message.id) } })).toBe(0);
      // Other messages keep theirs.
      expect(await prisma.reaction.count({ where: { messageId: BigInt(before.id) } })).toBe(1);
      expect((await storedMessage(before.id)).reactions).toEqual([{ emoji: "👍", count: 1, userIds: [carol.id] }]);
      const list = await w.as(carol.id).message.list({ conversationId, limit: 10 });
      expect(list.items.map((m) => [m.id, m.content])).toEqual([
        [before.id, "first"],
        [message.id, ""],
      ]);
    });

    it("takes it out of the counts of those who had it unread, not of those who read it or the sender, and appends the recount", async () => {
      const { w, alice, bob, carol, dave, conversationId, before, message } = await scene();
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: before.id, unreadCount: 1, mentionCount: 0 });
      expect(await countsOf(conversationId, dave)).toEqual({ lastReadMessageId: null, unreadCount: 2, mentionCount: 1 });
      const mark = await latestEventId();
      await w.as(bob.id).message.delete({ messageId: message.id });
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: before.id, unreadCount: 0, mentionCount: 0 });
      expect(await countsOf(conversationId, dave)).toEqual({ lastReadMessageId: null, unreadCount: 1, mentionCount: 0 });
      expect(await countsOf(conversationId, carol)).toEqual({ lastReadMessageId: message.id, unreadCount: 0, mentionCount: 0 });
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: message.id, unreadCount: 0, mentionCount: 0 });
      expect(await eventsAfter(mark)).toEqual([
        { kind: "message.updated", conversationId, messageId: message.id, userId: bob.id, data: null },
        {
          kind: "read.updated",
          conversationId,
          messageId: message.id,
          userId: null,
          data: {
            reads: {
              [alice.id]: { lastReadMessageId: before.id, unreadCount: 0, mentionCount: 0 },
              [dave.id]: { lastReadMessageId: null, unreadCount: 1, mentionCount: 0 },
            },
          },
        },
      ]);
      // The conversation as each reader gets it agrees.
      await expect(w.as(dave.id).conversation.get({ conversationId })).resolves.toMatchObject({ unreadCount: 1, mentionCount: 0 });
    });

    it("read by everyone it was unread for: no recount event", async () => {
      const { w, alice, bob, dave, conversationId, message } = await scene();
      await w.as(alice.id).conversation.markRead({ conversationId, messageId: message.id });
      await w.as(dave.id).conversation.markRead({ conversationId, messageId: message.id });
      const mark = await latestEventId();
      await w.as(bob.id).message.delete({ messageId: message.id });
      expect(await eventsAfter(mark)).toEqual([{ kind: "message.updated", conversationId, messageId: message.id, userId: bob.id, data: null }]);
    });

    it("by an owner of the group works on anyone's message; a plain member is FORBIDDEN on others'", async () => {
      const { w, alice, bob, dave, before, message } = await scene();
      const mark = await latestEventId();
      const error = await trpcErrorOf(w.as(dave.id).message.delete({ messageId: message.id }));
      expect(error.code).toBe("FORBIDDEN");
      expect(error.message).toBe("Only the sender or an owner of the group can delete a message");
      expect(await trpcErrorOf(w.as(bob.id).message.delete({ messageId: before.id }))).toMatchObject({ code: "FORBIDDEN" });
      expect(await eventsAfter(mark)).toEqual([]);
      expect((await storedMessage(message.id)).content).toBe(message.content);
      await expect(w.as(alice.id).message.delete({ messageId: message.id })).resolves.toMatchObject({ content: "", deletedAt: expect.any(String) });
      expect((await eventsAfter(mark))[0]).toMatchObject({ kind: "message.updated", userId: alice.id });
    });

    it("in a direct conversation, the sender may", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const { id: conversationId } = await w.as(alice.id).conversation.create({ memberIds: [bob.id] });
      const sent = await send(w, bob, conversationId, "oops");
      expect(await trpcErrorOf(w.as(alice.id).message.delete({ messageId: sent.id }))).toMatchObject({ code: "FORBIDDEN" });
      await expect(w.as(bob.id).message.delete({ messageId: sent.id })).resolves.toMatchObject({ content: "", deletedAt: expect.any(String) });
    });

    it("again returns the tombstone and changes, appends, scrubs and costs nothing", async () => {
      const w = await world({ messageChangesPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const sent = await send(w, bob, conversationId, "twice");
      const other = await send(w, bob, conversationId, "other");
      const scrub = vi.spyOn(suite.database.db, "scrubRemovedContent");
      try {
        const tombstone = await w.as(bob.id).message.delete({ messageId: sent.id });
        expect(scrub).toHaveBeenCalledTimes(1);
        const mark = await latestEventId();
        w.clock.advanceSeconds(60);
        expect(await w.as(bob.id).message.delete({ messageId: sent.id })).toEqual(tombstone);
        expect(await w.as(alice.id).message.delete({ messageId: sent.id })).toEqual(tombstone);
        expect(await eventsAfter(mark)).toEqual([]);
        expect(scrub).toHaveBeenCalledTimes(1);
        // Bob's second change of two is still there.
        await expect(w.as(bob.id).message.delete({ messageId: other.id })).resolves.toMatchObject({ deletedAt: expect.any(String) });
      } finally {
        scrub.mockRestore();
      }
    });

    it("of a reply recounts its root's replies and last reply time, and appends the root's message.updated", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const root = await send(w, alice, conversationId, "root");
      const replies = [];
      for (let i = 1; i <= 3; i++) {
        w.clock.advanceSeconds(10);
        replies.push(await send(w, bob, conversationId, `reply ${i}`, root.id));
      }
      const [r1, r2, r3] = replies as [MessageDto, MessageDto, MessageDto];
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 3, lastReplyAt: r3.createdAt });

      let mark = await latestEventId();
      await w.as(bob.id).message.delete({ messageId: r3.id });
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 2, lastReplyAt: r2.createdAt });
      const events = await eventsAfter(mark);
      expect(events.map((e) => [e.kind, e.messageId, e.userId])).toEqual([
        ["message.updated", r3.id, bob.id],
        ["read.updated", r3.id, null],
        ["message.updated", root.id, bob.id],
      ]);

      await w.as(bob.id).message.delete({ messageId: r1.id });
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 1, lastReplyAt: r2.createdAt });
      mark = await latestEventId();
      // The owner deletes the last one.
      await w.as(alice.id).message.delete({ messageId: r2.id });
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 0, lastReplyAt: null, content: "root" });
      expect((await eventsAfter(mark)).map((e) => [e.kind, e.messageId, e.userId])).toEqual([
        ["message.updated", r2.id, alice.id],
        ["read.updated", r2.id, null],
        ["message.updated", root.id, alice.id],
      ]);
    });

    it("of a root is one change of that message only", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const root = await send(w, alice, conversationId, "root");
      const reply = await send(w, bob, conversationId, "reply", root.id);
      const mark = await latestEventId();
      await expect(w.as(alice.id).message.delete({ messageId: root.id })).resolves.toMatchObject({ content: "", replyCount: 1 });
      expect((await eventsAfter(mark)).map((e) => [e.kind, e.messageId])).toEqual([["message.updated", root.id]]);
      expect((await storedMessage(reply.id)).content).toBe("reply");
    });
  });

  describe("message.react", () => {
    it("keeps emoji in first-used order and people in reaction order, with count the number of people", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, alice, [bob, carol]);
      const { id: messageId } = await send(w, alice, conversationId, "react to me");
      const react = (who: Person, emoji: string, on: boolean) => w.as(who.id).message.react({ messageId, emoji, on });
      const mark = await latestEventId();

      expect((await react(bob, "👍", true)).reactions).toEqual([{ emoji: "👍", count: 1, userIds: [bob.id] }]);
      // The row is stored (its time is the store's, like a message's; nothing reads it).
      expect(await suite.database.db.prisma.reaction.count({ where: { messageId: BigInt(messageId), userId: bob.id, emoji: "👍" } })).toBe(1);
      await react(carol, "❤️", true);
      expect((await react(alice, "👍", true)).reactions).toEqual([
        { emoji: "👍", count: 2, userIds: [bob.id, alice.id] },
        { emoji: "❤️", count: 1, userIds: [carol.id] },
      ]);
      expect((await react(bob, "❤️", true)).reactions).toEqual([
        { emoji: "👍", count: 2, userIds: [bob.id, alice.id] },
        { emoji: "❤️", count: 2, userIds: [carol.id, bob.id] },
      ]);
      // Off takes the caller from that emoji only.
      expect((await react(bob, "👍", false)).reactions).toEqual([
        { emoji: "👍", count: 1, userIds: [alice.id] },
        { emoji: "❤️", count: 2, userIds: [carol.id, bob.id] },
      ]);
      // The last person's removal removes the emoji; used again, it comes last.
      expect((await react(alice, "👍", false)).reactions).toEqual([{ emoji: "❤️", count: 2, userIds: [carol.id, bob.id] }]);
      const last = await react(alice, "👍", true);
      expect(last.reactions).toEqual([
        { emoji: "❤️", count: 2, userIds: [carol.id, bob.id] },
        { emoji: "👍", count: 1, userIds: [alice.id] },
      ]);
      expect(await storedMessage(messageId)).toEqual(last);
      const rows = await suite.database.db.prisma.reaction.findMany({ where: { messageId: BigInt(messageId) }, select: { userId: true, emoji: true } });
      expect(rows.map((r) => `${r.emoji} ${r.userId}`).sort()).toEqual([`❤️ ${carol.id}`, `❤️ ${bob.id}`, `👍 ${alice.id}`].sort());
      // One message.updated per change, by whoever reacted, and no recount.
      const actors = [bob, carol, alice, bob, bob, alice, alice];
      expect(await eventsAfter(mark)).toEqual(actors.map((a) => ({ kind: "message.updated", conversationId, messageId, userId: a.id, data: null })));
    });

    it("on when on, and off when off, change nothing, append nothing and cost nothing", async () => {
      const w = await world({ messageChangesPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const { id: messageId } = await send(w, alice, conversationId, "once");
      const on = await w.as(bob.id).message.react({ messageId, emoji: "🎉", on: true });
      const mark = await latestEventId();
      for (let i = 0; i < 3; i++) {
        expect(await w.as(bob.id).message.react({ messageId, emoji: "🎉", on: true })).toEqual(on);
        expect(await w.as(bob.id).message.react({ messageId, emoji: "👀", on: false })).toEqual(on);
      }
      expect(await eventsAfter(mark)).toEqual([]);
      expect(await suite.database.db.prisma.reaction.count({ where: { messageId: BigInt(messageId) } })).toBe(1);
      // The second of Bob's two changes.
      await expect(w.as(bob.id).message.react({ messageId, emoji: "🎉", on: false })).resolves.toMatchObject({ reactions: [] });
    });

    it(`allows at most ${MAX_REACTIONS_PER_MESSAGE} different emoji, and more people on those`, async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const { id: messageId } = await send(w, alice, conversationId, "popular");
      for (let i = 1; i < MAX_REACTIONS_PER_MESSAGE; i++) await w.as(alice.id).message.react({ messageId, emoji: `:e${i}:`, on: true });
      const full = await w.as(bob.id).message.react({ messageId, emoji: ":last:", on: true });
      expect(full.reactions).toHaveLength(MAX_REACTIONS_PER_MESSAGE);
      const error = await trpcErrorOf(w.as(bob.id).message.react({ messageId, emoji: ":one-more:", on: true }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toBe(`A message can have at most ${MAX_REACTIONS_PER_MESSAGE} different emoji`);
      expect(await storedMessage(messageId)).toEqual(full);
      const more = await w.as(bob.id).message.react({ messageId, emoji: ":e1:", on: true });
      expect(more.reactions[0]).toEqual({ emoji: ":e1:", count: 2, userIds: [alice.id, bob.id] });
      expect(more.reactions).toHaveLength(MAX_REACTIONS_PER_MESSAGE);
    });

    it("refuses a deleted message with BAD_REQUEST", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const { id: messageId } = await send(w, alice, conversationId, "gone");
      await w.as(alice.id).message.delete({ messageId });
      for (const on of [true, false]) {
        const error = await trpcErrorOf(w.as(bob.id).message.react({ messageId, emoji: "👍", on }));
        expect(error.code).toBe("BAD_REQUEST");
        expect(error.message).toBe("A deleted message cannot be reacted to");
      }
    });
  });

  describe("message.send with threadId (a reply)", () => {
    it("stores the reply in its thread, moves its root, and counts it as a send", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, alice, [bob, carol]);
      const root = await send(w, alice, conversationId, "root");
      w.clock.advanceSeconds(42);
      const mark = await latestEventId();
      const reply = await send(w, bob, conversationId, `@${carol.name} see @${bob.name}`, root.id);
      expect(reply).toMatchObject({
        conversationId,
        senderId: bob.id,
        threadId: root.id,
        mentions: [carol.id, bob.id],
        createdAt: "2030-01-01T00:00:42.000Z",
        replyCount: 0,
        deletedAt: null,
      });
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 1, lastReplyAt: reply.createdAt });
      expect(await eventsAfter(mark)).toEqual([
        { kind: "message.created", conversationId, messageId: reply.id, userId: null, data: null },
        { kind: "message.updated", conversationId, messageId: root.id, userId: bob.id, data: null },
      ]);
      // The sender has read up to their reply (mentioning themselves counts for no one); the others have one more unread.
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: reply.id, unreadCount: 0, mentionCount: 0 });
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: root.id, unreadCount: 1, mentionCount: 0 });
      expect(await countsOf(conversationId, carol)).toEqual({ lastReadMessageId: null, unreadCount: 2, mentionCount: 1 });
      // In its thread, not in the main list.
      expect((await w.as(carol.id).message.list({ conversationId, limit: 10 })).items.map((m) => m.id)).toEqual([root.id]);
      expect((await w.as(carol.id).message.list({ conversationId, limit: 10, threadId: root.id })).items).toEqual([reply]);

      w.clock.advanceSeconds(1);
      const second = await send(w, carol, conversationId, "me too", root.id);
      expect(second.mentions).toEqual([]);
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 2, lastReplyAt: second.createdAt });
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: reply.id, unreadCount: 1, mentionCount: 0 });
    });

    it("sent again with the same clientMessageId returns the stored reply and counts nothing", async () => {
      const w = await world({ messagesPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const root = await send(w, alice, conversationId, "root");
      const input = { conversationId, content: "reply", clientMessageId: randomUUID(), threadId: root.id };
      const reply = await w.as(bob.id).message.send(input);
      const mark = await latestEventId();
      w.clock.advanceSeconds(5);
      expect(await w.as(bob.id).message.send({ ...input, content: "changed" })).toEqual(reply);
      expect(await w.as(bob.id).message.send(input)).toEqual(reply);
      expect(await eventsAfter(mark)).toEqual([]);
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 1, lastReplyAt: reply.createdAt });
      expect(await countsOf(conversationId, alice)).toMatchObject({ unreadCount: 1 });
      // Bob's second message of two is still there.
      await expect(send(w, bob, conversationId, "another", root.id)).resolves.toMatchObject({ threadId: root.id });
      // A stored reply counts: there is no third.
      expect((await trpcErrorOf(send(w, bob, conversationId, "one more", root.id))).code).toBe("TOO_MANY_REQUESTS");
    });

    it("refuses a root that is missing, of another conversation, a reply or deleted, each without counting", async () => {
      const w = await world({ messagesPerUser: { max: 1, windowSeconds: 600 } });
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, carol, [alice, bob]);
      const elsewhere = await group(w, bob, [alice]);
      const root = await send(w, alice, conversationId, "root");
      const reply = await send(w, bob, conversationId, "reply", root.id);
      // Stored directly: the senders' budgets of one are not what this is about.
      const otherRoot = await insert(elsewhere, bob, "other root");
      const gone = await insert(conversationId, bob, "gone");
      await w.as(bob.id).message.delete({ messageId: gone.id });
      const mark = await latestEventId();
      const refusals = [
        [String(BigInt(gone.id) + 1000n), "NOT_FOUND", "No such message to reply to"],
        [otherRoot.id, "BAD_REQUEST", "threadId must name a message of the same conversation"],
        [reply.id, "BAD_REQUEST", "threadId must name a thread's root, not a reply"],
        [gone.id, "BAD_REQUEST", "A deleted message cannot be replied to"],
      ] as const;
      for (const [threadId, code, message] of refusals) {
        const error = await trpcErrorOf(w.as(carol.id).message.send({ conversationId, content: "x", clientMessageId: randomUUID(), threadId }));
        expect([error.code, error.message]).toEqual([code, message]);
      }
      expect(await eventsAfter(mark)).toEqual([]);
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 1 });
      // Carol's one message is still hers to send.
      await expect(send(w, carol, conversationId, "fine", root.id)).resolves.toMatchObject({ threadId: root.id });
    });

    it("message.list of a thread: its replies a page at a time; a reply, a missing message or another conversation's refused", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const elsewhere = await group(w, alice, [bob], "elsewhere");
      const root = await send(w, alice, conversationId, "root");
      const otherRoot = await send(w, alice, elsewhere, "other root");
      const replies = [];
      for (let i = 1; i <= 3; i++) replies.push(await send(w, bob, conversationId, `reply ${i}`, root.id));
      await send(w, bob, elsewhere, "not in the thread", otherRoot.id);
      const caller = w.as(alice.id);
      const newest = await caller.message.list({ conversationId, threadId: root.id, limit: 2 });
      expect(newest.items.map((m) => m.content)).toEqual(["reply 2", "reply 3"]);
      expect(newest.nextCursor).toBe(replies[1]?.id);
      const older = await caller.message.list({ conversationId, threadId: root.id, limit: 2, cursor: newest.nextCursor });
      expect(older).toEqual({ items: [replies[0]], nextCursor: null });
      const refusals = [
        [replies[0]?.id ?? "", "BAD_REQUEST", "threadId must name a thread's root, not a reply"],
        [otherRoot.id, "NOT_FOUND", "No such thread in this conversation"],
        [String(BigInt(otherRoot.id) + 1000n), "NOT_FOUND", "No such thread in this conversation"],
      ] as const;
      for (const [threadId, code, message] of refusals) {
        const error = await trpcErrorOf(caller.message.list({ conversationId, threadId, limit: 10 }));
        expect([error.code, error.message]).toEqual([code, message]);
      }
    });

    it("by someone no longer a member stores nothing", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const root = await send(w, alice, conversationId, "root");
      await w.as(alice.id).conversation.removeMember({ conversationId, userId: bob.id });
      // Past the procedure's check (another instance's cache may still list Bob): the store decides.
      const input = { conversationId, content: "late", clientMessageId: randomUUID(), threadId: root.id };
      await expect(storeReply(w.services, bob.id, input)).resolves.toEqual({ status: "not_member" });
      await expect(sendMessage(w.services, bob.id, input)).rejects.toMatchObject({ kind: "forbidden" });
      expect(await storedMessage(root.id)).toMatchObject({ replyCount: 0 });
    });
  });

  describe("counts the procedures never make", () => {
    // No procedure leaves a sender's pointer behind their own message, or a count at zero with the
    // message still unread; the recount must not count the sender's own message nor go below zero
    // should such a row exist anyway (written by hand, or by an older version).
    it("the sender's own message never counts for them, even with their pointer behind it", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const message = await send(w, alice, conversationId, `note to @${alice.name}`);
      expect(message.mentions).toEqual([alice.id]);
      const where = { conversationId_userId: { conversationId, userId: alice.id } };
      await suite.database.db.prisma.conversationMember.update({ where, data: { lastReadMessageId: null, unreadCount: 1, mentionCount: 1 } });
      const mark = await latestEventId();
      await w.as(alice.id).message.edit({ messageId: message.id, content: `note to @${bob.name}` });
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: null, unreadCount: 1, mentionCount: 1 });
      await w.as(alice.id).message.edit({ messageId: message.id, content: `note to @${alice.name}` });
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: null, unreadCount: 1, mentionCount: 1 });
      await w.as(alice.id).message.delete({ messageId: message.id });
      expect(await countsOf(conversationId, alice)).toEqual({ lastReadMessageId: null, unreadCount: 1, mentionCount: 1 });
      // Only Bob's counts were ever recounted.
      const recounted = (await eventsAfter(mark)).filter((e) => e.kind === "read.updated").map((e) => Object.keys((e.data as { reads: object }).reads));
      expect(recounted).toEqual([[bob.id], [bob.id], [bob.id]]);
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: null, unreadCount: 0, mentionCount: 0 });
    });

    it("a count already at zero stays there", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const message = await send(w, alice, conversationId, `hi @${bob.name}`);
      const where = { conversationId_userId: { conversationId, userId: bob.id } };
      await suite.database.db.prisma.conversationMember.update({ where, data: { mentionCount: 0 } });
      await w.as(alice.id).message.edit({ messageId: message.id, content: "hi" });
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: null, unreadCount: 1, mentionCount: 0 });
      await suite.database.db.prisma.conversationMember.update({ where, data: { unreadCount: 0 } });
      const mark = await latestEventId();
      await w.as(alice.id).message.delete({ messageId: message.id });
      expect(await countsOf(conversationId, bob)).toEqual({ lastReadMessageId: null, unreadCount: 0, mentionCount: 0 });
      expect((await eventsAfter(mark)).map((e) => e.kind)).toEqual(["message.updated"]);
    });
  });

  describe("a change past the procedures' checks", () => {
    // The procedures check the message and the membership first; the change checks them again in
    // its transaction, since either may have changed in between.
    it("to a message that does not exist is not_found", async () => {
      const w = await world();
      const [alice] = await people(1);
      const missing = { messageId: String(10n ** 15n), content: "x", emoji: "👍", on: true };
      await expect(editMessage(w.services, alice.id, missing)).rejects.toMatchObject({ kind: "not_found", message: "No such message" });
      await expect(deleteMessage(w.services, alice.id, missing)).rejects.toMatchObject({ kind: "not_found", message: "No such message" });
      await expect(reactToMessage(w.services, alice.id, missing)).rejects.toMatchObject({ kind: "not_found", message: "No such message" });
    });

    it("by someone who is not a member is forbidden, and costs nothing", async () => {
      const w = await world({ messageChangesPerUser: { max: 1, windowSeconds: 600 } });
      const [alice, bob, mallory] = await people(3);
      const conversationId = await group(w, alice, [bob]);
      const { id: messageId } = await send(w, alice, conversationId, "hello");
      const input = { messageId, content: "x", emoji: "👍", on: true };
      const refusal = { kind: "forbidden", message: "You are not a member of this message's conversation" };
      await expect(editMessage(w.services, mallory.id, input)).rejects.toMatchObject(refusal);
      await expect(deleteMessage(w.services, mallory.id, input)).rejects.toMatchObject(refusal);
      await expect(reactToMessage(w.services, mallory.id, input)).rejects.toMatchObject(refusal);
      expect(await w.services.messageChangesByUser.take(mallory.id)).toBe(0);
    });
  });

  describe("the rate limit of changes", () => {
    it("counts edits, deletes and reactions together and refuses past it with TOO_MANY_REQUESTS", async () => {
      const w = await world({ messageChangesPerUser: { max: 3, windowSeconds: 600 } });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const first = await send(w, alice, conversationId, "one");
      const second = await send(w, alice, conversationId, "two");
      // Refused changes give their count back too.
      await trpcErrorOf(w.as(alice.id).message.edit({ messageId: (await send(w, bob, conversationId, "bob's")).id, content: "mine" }));
      await w.as(alice.id).message.edit({ messageId: first.id, content: "one!" });
      await w.as(alice.id).message.react({ messageId: first.id, emoji: "👍", on: true });
      await w.as(alice.id).message.delete({ messageId: second.id });
      const mark = await latestEventId();
      const calls = [
        () => w.as(alice.id).message.edit({ messageId: first.id, content: "one!!" }),
        () => w.as(alice.id).message.react({ messageId: first.id, emoji: "👍", on: false }),
        () => w.as(alice.id).message.delete({ messageId: first.id }),
      ];
      for (const call of calls) {
        const error = await trpcErrorOf(call());
        expect(error.code).toBe("TOO_MANY_REQUESTS");
        expect(error.message).toMatch(/^Too many changes to messages\. Try again in \d+ seconds\.$/);
      }
      expect(await eventsAfter(mark)).toEqual([]);
      expect(await storedMessage(first.id)).toMatchObject({ content: "one!", reactions: [{ emoji: "👍", count: 1, userIds: [alice.id] }] });
      // Per user: Bob still may.
      await expect(w.as(bob.id).message.react({ messageId: first.id, emoji: "👍", on: true })).resolves.toMatchObject({ reactions: [{ count: 2 }] });
    });
  });
});

// Who is in a group and what they may do, through the procedures, on each provider: adding (any
// member), removing and renaming (owners), leaving (the last owner's leaving promotes the
// longest-standing member; the last member's deletes the group), notification levels, read
// pointers, and the events each change appends. The server's integration tests cover the same rules
// over the wire; these are here so that mutation testing of the domain code sees them.
import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { addMembers, leaveConversation, removeMember, renameConversation, setNotify } from "../src/domain/members.js";
import { markRead } from "../src/domain/read-state.js";
import { eventsForUser } from "../src/live/feed-log.js";
import { viewFor } from "../src/live/feed.js";
import { describeEachProvider, suiteDatabase, trpcErrorOf } from "./helpers.js";
import { scenes, type Person } from "./scenes.js";

describeEachProvider("members", (provider) => {
  const suite = suiteDatabase(provider);
  const { world, people, send, group, countsOf, latestEventId, eventsAfter } = scenes(suite);
  const prisma = () => suite.database.db.prisma;

  /** Users with the ids given (for tests of order), stored directly. */
  async function peopleWithIds<const Ids extends readonly string[]>(ids: Ids): Promise<{ [K in keyof Ids]: Person }> {
    const result: Person[] = [];
    for (const id of ids) {
      const name = `u${randomUUID().slice(0, 8)}`;
      await prisma().user.create({ data: { id, username: name, fullName: name, passwordHash: "unused" } });
      result.push({ id, name });
    }
    return result as { [K in keyof Ids]: Person };
  }

  const read = (lastReadMessageId: string | null, unreadCount = 0, mentionCount = 0) => ({ lastReadMessageId, unreadCount, mentionCount });

  /** A member's role and read pointer as conversation.get lists them, by user id. */
  const memberOf = (p: Person, role: "owner" | "member", lastReadMessageId: string | null = null) => ({
    id: p.id,
    username: p.name,
    fullName: p.name,
    role,
    lastReadMessageId,
  });

  async function direct(w: Awaited<ReturnType<typeof world>>, a: Person, b: Person): Promise<string> {
    return (await w.as(a.id).conversation.create({ memberIds: [b.id] })).id;
  }

  describe("conversation.addMembers", () => {
    it("by any member: newcomers join as members who have read everything before, after everyone already there", async () => {
      const w = await world();
      const [alice, bob, carol, dave] = await people(4);
      const conversationId = await group(w, alice, [bob]);
      const before = await send(w, alice, conversationId, "before");
      const last = await send(w, bob, conversationId, "last before");
      await w.as(bob.id).conversation.setNotify({ conversationId, level: "mentions" });
      w.clock.advanceSeconds(60);
      const mark = await latestEventId();
      const added = await w.as(bob.id).conversation.addMembers({ conversationId, userIds: [dave.id, carol.id, dave.id, bob.id] });
      // Joined together, the newcomers are in user id order.
      const newcomers = [carol, dave].sort((a, b) => (a.id < b.id ? -1 : 1)).map((p) => memberOf(p, "member", last.id));
      expect(added.members).toEqual([memberOf(alice, "owner", before.id), memberOf(bob, "member", last.id), ...newcomers]);
      expect(added).toMatchObject({ memberCount: 4, ...read(last.id), notify: "mentions" });
      expect(await countsOf(conversationId, carol)).toEqual(read(last.id));
      expect(await eventsAfter(mark)).toEqual([
        {
          kind: "conversation.updated",
          conversationId,
          messageId: null,
          userId: bob.id,
          data: {
            reads: { [alice.id]: read(before.id, 1), [bob.id]: read(last.id), [dave.id]: read(last.id), [carol.id]: read(last.id) },
            added: [dave.id, carol.id],
            removed: [],
            notify: { [bob.id]: "mentions" },
          },
        },
      ]);
      const rows = await prisma().conversationMember.findMany({ where: { conversationId, userId: { in: [carol.id, dave.id] } }, select: { role: true, notify: true, joinedAt: true } });
      expect(rows.map((r) => [r.role, r.notify, r.joinedAt.toISOString()])).toEqual([
        ["member", "all", "2030-01-01T00:01:00.000Z"],
        ["member", "all", "2030-01-01T00:01:00.000Z"],
      ]);
      // Only what comes after counts for them.
      await send(w, alice, conversationId, `hello @${carol.name}`);
      expect(await countsOf(conversationId, carol)).toEqual(read(last.id, 1, 1));
      expect((await w.as(carol.id).message.list({ conversationId, limit: 10 })).items).toHaveLength(3);
    });

    it("gives each member, in their events, the conversation as conversation.get gives it to them", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, alice, [bob]);
      const other = await group(w, bob, [alice], "other");
      await send(w, alice, other, "elsewhere");
      const last = await send(w, alice, conversationId, `hi @${bob.name}`);
      // Newer, but of another conversation: not this one's last message.
      await send(w, alice, other, "elsewhere, later");
      await w.as(bob.id).conversation.setNotify({ conversationId, level: "none" });
      const mark = await latestEventId();
      await w.as(alice.id).conversation.addMembers({ conversationId, userIds: [carol.id] });
      for (const member of [alice, bob, carol]) {
        const { entries } = await eventsForUser(suite.database.db, member.id, mark, 100);
        expect(entries.map((entry) => viewFor(entry, member.id))).toEqual([
          { type: "conversation.updated", conversation: await w.as(member.id).conversation.get({ conversationId }) },
        ]);
      }
      const { entries } = await eventsForUser(suite.database.db, bob.id, mark, 100);
      expect(viewFor(entries[0] ?? { kind: "read.recounted", id: "0", conversationId, reads: {} }, bob.id)).toMatchObject({
        conversation: { memberCount: 3, notify: "none", unreadCount: 1, mentionCount: 1, lastMessage: last },
      });
    });

    it("to a group without messages: the newcomer has read nothing", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, alice, [bob]);
      await w.as(alice.id).conversation.addMembers({ conversationId, userIds: [carol.id] });
      expect(await countsOf(conversationId, carol)).toEqual(read(null));
    });

    it("naming only members changes nothing, appends nothing and costs nothing", async () => {
      const w = await world({ conversationMembersPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob, carol, dave] = await people(4);
      const conversationId = await group(w, alice, [bob]);
      const mark = await latestEventId();
      const before = await w.as(bob.id).conversation.get({ conversationId });
      expect(await w.as(bob.id).conversation.addMembers({ conversationId, userIds: [alice.id, bob.id] })).toEqual(before);
      expect(await eventsAfter(mark)).toEqual([]);
      await expect(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id, dave.id] })).resolves.toMatchObject({ memberCount: 4 });
    });

    it("counts only the newcomers against the caller's budget, and refuses past it with TOO_MANY_REQUESTS", async () => {
      const w = await world({ conversationMembersPerUser: { max: 3, windowSeconds: 600 } });
      const [alice, bob, carol, dave, erin, frank] = await people(6);
      const conversationId = await group(w, alice, [bob]);
      await w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id] });
      // Counted as two while it runs, then one given back for Carol, who was there already.
      await w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id, dave.id] });
      await w.as(bob.id).conversation.addMembers({ conversationId, userIds: [erin.id] });
      const error = await trpcErrorOf(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [frank.id] }));
      expect(error.code).toBe("TOO_MANY_REQUESTS");
      expect(error.message).toMatch(/^Too many members added recently\. Try again in \d+ seconds\.$/);
      expect(await prisma().conversationMember.count({ where: { conversationId } })).toBe(5);
    });

    it("refuses more at once than the budget with BAD_REQUEST; exactly the budget is fine", async () => {
      const w = await world({ conversationMembersPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob, carol, dave, erin] = await people(5);
      const conversationId = await group(w, alice, [bob]);
      const error = await trpcErrorOf(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id, dave.id, erin.id] }));
      expect([error.code, error.message]).toEqual(["BAD_REQUEST", "At most 2 members can be added at once"]);
      await expect(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id, dave.id] })).resolves.toMatchObject({ memberCount: 4 });
    });

    it("refuses a user that does not exist with BAD_REQUEST, adding no one and costing nothing", async () => {
      const w = await world({ conversationMembersPerUser: { max: 1, windowSeconds: 600 } });
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, alice, [bob]);
      const mark = await latestEventId();
      const error = await trpcErrorOf(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id, "no-such-user"] }));
      expect([error.code, error.message]).toEqual(["BAD_REQUEST", "userIds names a user that does not exist"]);
      expect(await eventsAfter(mark)).toEqual([]);
      await expect(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id] })).resolves.toMatchObject({ memberCount: 3 });
    });

    it("refuses a direct conversation with BAD_REQUEST, and costs nothing", async () => {
      const w = await world({ conversationMembersPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob, carol] = await people(3);
      const conversationId = await direct(w, alice, bob);
      const error = await trpcErrorOf(w.as(bob.id).conversation.addMembers({ conversationId, userIds: [carol.id] }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toBe("A direct conversation always has its two people: it cannot be renamed, added to, removed from or left");
      expect(await prisma().conversationMember.count({ where: { conversationId } })).toBe(2);
      const other = await group(w, alice, [bob]);
      await expect(w.as(bob.id).conversation.addMembers({ conversationId: other, userIds: [carol.id] })).resolves.toMatchObject({ memberCount: 3 });
    });
  });

  describe("conversation.removeMember", () => {
    it("by an owner: the member's row goes, their span is kept, the others get the event", async () => {
      const w = await world();
      const [alice, bob, carol] = await people(3);
      const conversationId = await group(w, alice, [bob, carol]);
      const message = await send(w, carol, conversationId, "hi");
      const joined = await prisma().conversationMember.findUniqueOrThrow({ where: { conversationId_userId: { conversationId, userId: bob.id } }, select: { joinedEventId: true } });
      const mark = await latestEventId();
      const after = await w.as(alice.id).conversation.removeMember({ conversationId, userId: bob.id });
      expect(after.members).toEqual([memberOf(alice, "owner"), memberOf(carol, "member", message.id)]);
      expect(after.memberCount).toBe(2);
      const events = await eventsAfter(mark);
      expect(events).toEqual([
        {
          kind: "conversation.updated",
          conversationId,
          messageId: null,
          userId: alice.id,
          data: { reads: { [alice.id]: read(null, 1), [carol.id]: read(message.id) }, added: [], removed: [bob.id], notify: {} },
        },
      ]);
      const spans = await prisma().pastMembership.findMany({ where: { conversationId }, select: { userId: true, fromEventId: true, toEventId: true } });
      expect(spans).toEqual([{ userId: bob.id, fromEventId: joined.joinedEventId, toEventId: mark + 1n }]);
    });

    it("leaves the removed member nothing: no reading, sending, changing or further events", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const own = await send(w, bob, conversationId, "mine");
      const mark = await latestEventId();
      await w.as(alice.id).conversation.removeMember({ conversationId, userId: bob.id });
      await send(w, alice, conversationId, "after");
      const caller = w.as(bob.id);
      // Each made only when awaited, so that no refusal goes unhandled while an earlier one is awaited.
      const calls = [
        () => caller.message.list({ conversationId, limit: 10 }),
        () => caller.conversation.get({ conversationId }),
        () => caller.message.send({ conversationId, content: "let me in", clientMessageId: "late" }),
        () => caller.message.edit({ messageId: own.id, content: "changed" }),
        () => caller.message.delete({ messageId: own.id }),
        () => caller.message.react({ messageId: own.id, emoji: "👍", on: true }),
        () => caller.conversation.markRead({ conversationId, messageId: own.id }),
        () => caller.conversation.leave({ conversationId }),
      ];
      for (const call of calls) expect((await trpcErrorOf(call())).code).toBe("FORBIDDEN");
      expect(await caller.conversation.list()).toEqual([]);
      const { entries } = await eventsForUser(suite.database.db, bob.id, mark, 100);
      expect(entries.map((entry) => viewFor(entry, bob.id))).toEqual([{ type: "conversation.removed", conversationId }]);
    });

    it("refuses the caller naming themselves, a plain member, a non-member and a direct conversation", async () => {
      const w = await world();
      const [alice, bob, carol, outsider] = await people(4);
      const conversationId = await group(w, alice, [bob, carol]);
      const mark = await latestEventId();
      const refusals = [
        [alice, conversationId, alice.id, "BAD_REQUEST", "To remove yourself, leave the conversation (conversation.leave)"],
        [bob, conversationId, carol.id, "FORBIDDEN", "Only an owner can remove members"],
        [alice, conversationId, outsider.id, "NOT_FOUND", "That user is not a member of this conversation"],
        [alice, await direct(w, alice, bob), bob.id, "BAD_REQUEST", "A direct conversation always has its two people: it cannot be renamed, added to, removed from or left"],
      ] as const;
      const before = await latestEventId();
      for (const [caller, id, userId, code, message] of refusals) {
        const error = await trpcErrorOf(w.as(caller.id).conversation.removeMember({ conversationId: id, userId }));
        expect([error.code, error.message]).toEqual([code, message]);
      }
      expect(await eventsAfter(before)).toEqual([]);
      expect((await eventsAfter(mark)).length).toBe(1);
      expect(await prisma().conversationMember.count({ where: { conversationId } })).toBe(3);
    });
  });

  describe("conversation.leave", () => {
    it("by a member keeps the owner; by the last owner makes the longest-standing member owner", async () => {
      const w = await world();
      // Ids chosen so that id order, insertion order and join order all differ: among those who
      // joined together the lower id comes first (here before the creator, who owns the group),
      // and the one who joined later has the lowest id of all.
      const tag = randomUUID().slice(0, 8);
      const [alice, x, y, leaver, late] = await peopleWithIds([`m9-${tag}`, `m2-${tag}`, `m1-${tag}`, `m5-${tag}`, `m0-${tag}`]);
      const conversationId = await group(w, alice, [x, y, leaver]);
      w.clock.advanceSeconds(60);
      await w.as(alice.id).conversation.addMembers({ conversationId, userIds: [late.id] });
      await expect(w.as(leaver.id).conversation.leave({ conversationId })).resolves.toEqual({ ok: true });
      expect((await w.as(alice.id).conversation.get({ conversationId })).members).toEqual([memberOf(y, "member"), memberOf(x, "member"), memberOf(alice, "owner"), memberOf(late, "member")]);

      const mark = await latestEventId();
      await w.as(alice.id).conversation.leave({ conversationId });
      expect((await w.as(late.id).conversation.get({ conversationId })).members).toEqual([memberOf(y, "owner"), memberOf(x, "member"), memberOf(late, "member")]);
      expect(await eventsAfter(mark)).toEqual([
        {
          kind: "conversation.updated",
          conversationId,
          messageId: null,
          userId: alice.id,
          data: { reads: { [y.id]: read(null), [x.id]: read(null), [late.id]: read(null) }, added: [], removed: [alice.id], notify: {} },
        },
      ]);
      // The new owner may do what owners do.
      await expect(w.as(y.id).conversation.rename({ conversationId, title: "theirs now" })).resolves.toMatchObject({ title: "theirs now" });
    });

    it("by the last member deletes the group with its messages", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      await send(w, bob, conversationId, "bye");
      await w.as(alice.id).conversation.leave({ conversationId });
      expect((await w.as(bob.id).conversation.get({ conversationId })).members).toEqual([memberOf(bob, "owner", expect.any(String) as string)]);
      const mark = await latestEventId();
      await expect(w.as(bob.id).conversation.leave({ conversationId })).resolves.toEqual({ ok: true });
      expect(await prisma().conversation.count({ where: { id: conversationId } })).toBe(0);
      expect(await prisma().message.count({ where: { conversationId } })).toBe(0);
      expect((await eventsAfter(mark)).map((e) => [e.kind, e.userId, (e.data as { removed: string[] }).removed])).toEqual([["conversation.updated", bob.id, [bob.id]]]);
      expect((await trpcErrorOf(w.as(bob.id).conversation.get({ conversationId }))).code).toBe("NOT_FOUND");
    });

    it("refuses a direct conversation with BAD_REQUEST", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await direct(w, alice, bob);
      const error = await trpcErrorOf(w.as(alice.id).conversation.leave({ conversationId }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(await prisma().conversationMember.count({ where: { conversationId } })).toBe(2);
    });
  });

  describe("conversation.rename", () => {
    it("by an owner sets the title (empty clears it) and appends the event; the same title changes nothing", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob], "before");
      let mark = await latestEventId();
      await expect(w.as(alice.id).conversation.rename({ conversationId, title: "after" })).resolves.toMatchObject({ title: "after", memberCount: 2 });
      expect(await eventsAfter(mark)).toEqual([
        { kind: "conversation.updated", conversationId, messageId: null, userId: alice.id, data: { reads: { [alice.id]: read(null), [bob.id]: read(null) }, added: [], removed: [], notify: {} } },
      ]);
      mark = await latestEventId();
      await expect(w.as(alice.id).conversation.rename({ conversationId, title: "after" })).resolves.toMatchObject({ title: "after" });
      expect(await eventsAfter(mark)).toEqual([]);
      await expect(w.as(alice.id).conversation.rename({ conversationId, title: "" })).resolves.toMatchObject({ title: null });
      expect(await prisma().conversation.findUniqueOrThrow({ where: { id: conversationId }, select: { title: true } })).toEqual({ title: null });
      mark = await latestEventId();
      await w.as(alice.id).conversation.rename({ conversationId, title: "" });
      expect(await eventsAfter(mark)).toEqual([]);
    });

    it("refuses a plain member with FORBIDDEN and a direct conversation with BAD_REQUEST", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob], "kept");
      const error = await trpcErrorOf(w.as(bob.id).conversation.rename({ conversationId, title: "mine" }));
      expect([error.code, error.message]).toEqual(["FORBIDDEN", "Only an owner can rename the conversation"]);
      expect((await w.as(bob.id).conversation.get({ conversationId })).title).toBe("kept");
      expect((await trpcErrorOf(w.as(alice.id).conversation.rename({ conversationId: await direct(w, alice, bob), title: "x" }))).code).toBe("BAD_REQUEST");
    });
  });

  describe("conversation.setNotify", () => {
    it("sets the caller's level only, with an event for the caller alone; the same level changes nothing and costs nothing", async () => {
      const w = await world({ messageChangesPerUser: { max: 2, windowSeconds: 600 } });
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const message = await send(w, alice, conversationId, "hi");
      let mark = await latestEventId();
      await expect(w.as(bob.id).conversation.setNotify({ conversationId, level: "none" })).resolves.toMatchObject({ id: conversationId, notify: "none", ...read(null, 1) });
      expect(await eventsAfter(mark)).toEqual([
        { kind: "conversation.updated", conversationId, messageId: null, userId: bob.id, data: { reads: { [bob.id]: read(null, 1) }, added: [], removed: [], notify: { [bob.id]: "none" }, to: [bob.id] } },
      ]);
      await expect(w.as(alice.id).conversation.get({ conversationId })).resolves.toMatchObject({ notify: "all", ...read(message.id) });
      mark = await latestEventId();
      for (let i = 0; i < 3; i++) await expect(w.as(bob.id).conversation.setNotify({ conversationId, level: "none" })).resolves.toMatchObject({ notify: "none" });
      expect(await eventsAfter(mark)).toEqual([]);
      // Back to "all": the event's levels leave it out.
      await w.as(bob.id).conversation.setNotify({ conversationId, level: "all" });
      expect((await eventsAfter(mark)).map((e) => e.data)).toEqual([{ reads: { [bob.id]: read(null, 1) }, added: [], removed: [], notify: {}, to: [bob.id] }]);
      const error = await trpcErrorOf(w.as(bob.id).conversation.setNotify({ conversationId, level: "mentions" }));
      expect(error.code).toBe("TOO_MANY_REQUESTS");
      expect(error.message).toMatch(/^Too many changes\. Try again in \d+ seconds\.$/);
      await expect(w.as(bob.id).conversation.get({ conversationId })).resolves.toMatchObject({ notify: "all" });
    });

    it("reads a stored level it does not know as all", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      await prisma().conversationMember.update({ where: { conversationId_userId: { conversationId, userId: bob.id } }, data: { notify: "loud" } });
      await expect(w.as(bob.id).conversation.get({ conversationId })).resolves.toMatchObject({ notify: "all" });
      expect((await w.as(bob.id).conversation.list()).map((c) => c.notify)).toEqual(["all"]);
    });
  });

  describe("conversation.markRead", () => {
    it("moves the pointer forward only, and refuses a message of another conversation with NOT_FOUND", async () => {
      const w = await world();
      const [alice, bob] = await people(2);
      const conversationId = await group(w, alice, [bob]);
      const elsewhere = await group(w, alice, [bob], "elsewhere");
      const first = await send(w, alice, conversationId, `one @${bob.name}`);
      const second = await send(w, alice, conversationId, "two");
      const other = await send(w, alice, elsewhere, "other");
      await expect(w.as(bob.id).conversation.markRead({ conversationId, messageId: first.id })).resolves.toEqual(read(first.id, 1, 0));
      const mark = await latestEventId();
      // Marking what is already read is answered from the row, without the read writer.
      const writer = vi.spyOn(w.services.reads, "mark");
      await expect(w.as(bob.id).conversation.markRead({ conversationId, messageId: first.id })).resolves.toEqual(read(first.id, 1, 0));
      expect(writer).not.toHaveBeenCalled();
      writer.mockRestore();
      expect(await eventsAfter(mark)).toEqual([]);
      await expect(w.as(bob.id).conversation.markRead({ conversationId, messageId: second.id })).resolves.toEqual(read(second.id, 0, 0));
      await expect(w.as(bob.id).conversation.markRead({ conversationId, messageId: first.id })).resolves.toEqual(read(second.id, 0, 0));
      for (const messageId of [other.id, String(BigInt(other.id) + 1000n)]) {
        const error = await trpcErrorOf(w.as(bob.id).conversation.markRead({ conversationId, messageId }));
        expect([error.code, error.message]).toEqual(["NOT_FOUND", "No such message in this conversation"]);
      }
      // Read pointers are every member's to see, in the conversation and in the list.
      const members = (await w.as(alice.id).conversation.list()).find((c) => c.id === conversationId)?.members;
      expect(members).toEqual([memberOf(alice, "owner", second.id), memberOf(bob, "member", second.id)]);
    });
  });

  describe("past the procedures' checks", () => {
    // The procedures check membership first (from a cache); each change checks again in its transaction.
    it("a change by someone who is not a member is forbidden, and one of a missing conversation not_found", async () => {
      const w = await world({ messageChangesPerUser: { max: 1, windowSeconds: 600 }, conversationMembersPerUser: { max: 1, windowSeconds: 600 } });
      const [alice, bob, mallory] = await people(3);
      const conversationId = await group(w, alice, [bob]);
      const refusal = { kind: "forbidden", message: "You are not a member of this conversation" };
      await expect(addMembers(w.services, mallory.id, { conversationId, userIds: [mallory.id] })).rejects.toMatchObject(refusal);
      await expect(removeMember(w.services, mallory.id, { conversationId, userId: bob.id })).rejects.toMatchObject(refusal);
      await expect(leaveConversation(w.services, mallory.id, { conversationId })).rejects.toMatchObject(refusal);
      await expect(renameConversation(w.services, mallory.id, { conversationId, title: "x" })).rejects.toMatchObject(refusal);
      await expect(setNotify(w.services, mallory.id, { conversationId, level: "none" })).rejects.toMatchObject(refusal);
      const { id: messageId } = await send(w, alice, conversationId, "hi");
      await expect(markRead(w.services, mallory.id, { conversationId, messageId })).rejects.toMatchObject(refusal);
      // Removed between the check and the read writer's transaction.
      const writer = vi.spyOn(w.services.reads, "mark").mockResolvedValueOnce({ status: "not_member" });
      await expect(markRead(w.services, bob.id, { conversationId, messageId })).rejects.toMatchObject(refusal);
      writer.mockRestore();
      // None of them cost Mallory anything.
      expect(await w.services.messageChangesByUser.take(mallory.id)).toBe(0);
      expect(await w.services.conversationMembersByUser.take(mallory.id)).toBe(0);
      const missing = { kind: "not_found", message: "No such conversation" };
      await expect(leaveConversation(w.services, bob.id, { conversationId: "no-such-conversation" })).rejects.toMatchObject(missing);
      await expect(addMembers(w.services, bob.id, { conversationId: "no-such-conversation", userIds: [bob.id] })).rejects.toMatchObject(missing);
      expect(await prisma().conversationMember.count({ where: { conversationId } })).toBe(2);
    });
  });
});

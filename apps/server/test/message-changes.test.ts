// v2 message changes end to end, over real HTTP and WebSocket clients, on SQLite and PostgreSQL:
// message.edit, message.delete (content gone from storage, counts of those it was unread for),
// message.react, threads (message.send/list with threadId), conversation.setNotify - each a
// message.updated (or read/conversation) event in the one ordered feed, resumable after a restart.
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { FeedEvent, MessageDto } from "@parley/api/schemas";
import {
  clientMessageId,
  collectLive,
  createTestDatabase,
  describeEachProvider,
  errorCodeOf,
  postgresUrl,
  redisUrl,
  signUpAndLogIn,
  sleep,
  perTestCleanup,
  startTestServer,
  suiteServer,
  testLimits,
  waitForSubscribers,
  type Provider,
  type SignedIn,
  type TestServer,
} from "./harness.js";

const { cleanups, live, subscribe } = perTestCleanup();

const send = (user: SignedIn, conversationId: string, content: string, threadId?: string): Promise<MessageDto> =>
  user.api.message.send.mutate({ conversationId, content, clientMessageId: clientMessageId(), ...(threadId ? { threadId } : {}) });

function summary(event: FeedEvent): string {
  switch (event.type) {
    case "message.created":
    case "message.updated":
      return `${event.type}:${event.message.deletedAt ? "(deleted)" : event.message.content}`;
    case "conversation.updated":
      return `${event.type}:${event.conversation.notify}`;
    case "read.updated":
      return `${event.type}:${event.unreadCount ?? "-"}/${event.mentionCount ?? "-"}`;
    case "conversation.removed":
    case "typing":
    case "presence":
      return event.type;
  }
}

const settle = () => sleep(300);

/** Three people in a group owned by alice, each subscribed to sync.events. */
async function group(server: TestServer) {
  const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
  const conversation = await alice.api.conversation.create.mutate({ title: "Team", memberIds: [bob.id, carol.id] });
  return { alice, bob, carol, conversationId: conversation.id };
}

describeEachProvider("message.edit", (provider) => {
  const server = suiteServer(provider);

  it("the sender replaces the content, editedAt is set and mentions follow the new text; every member gets message.updated", async () => {
    const { alice, bob, carol, conversationId } = await group(server());
    const sent = await send(alice, conversationId, "hello");
    const bobs = await subscribe(server(), bob);
    const edited = await alice.api.message.edit.mutate({ messageId: sent.id, content: `hello @${carol.username}` });
    expect(edited).toMatchObject({ id: sent.id, content: `hello @${carol.username}`, mentions: [carol.id], deletedAt: null, createdAt: sent.createdAt });
    expect(edited.editedAt).not.toBeNull();
    const [event] = await bobs.waitFor(1);
    expect(event?.event).toEqual({ type: "message.updated", message: edited });
    expect(BigInt(event?.id ?? 0)).toBeGreaterThan(BigInt(sent.id));
    // The history shows it edited.
    expect((await bob.api.message.list.query({ conversationId })).items).toEqual([edited]);
    // The newly mentioned member had it unread: the mention counts now.
    expect((await carol.api.conversation.get.query({ conversationId })).mentionCount).toBe(1);
  });

  it("changes reach exactly the members at the time of the change, live and on resume", async () => {
    const { alice, bob, carol, conversationId } = await group(server());
    const dave = await signUpAndLogIn(server());
    const old = await send(alice, conversationId, "old");
    const [carols, daves] = [await subscribe(server(), carol), await subscribe(server(), dave)];
    await alice.api.conversation.removeMember.mutate({ conversationId, userId: carol.id });
    await alice.api.conversation.addMembers.mutate({ conversationId, userIds: [dave.id] });
    const position = (await carols.waitFor(1))[0]?.id ?? "";
    await alice.api.message.edit.mutate({ messageId: old.id, content: "old, edited" });
    await bob.api.message.react.mutate({ messageId: old.id, emoji: "👍", on: true });
    const davesEvents = await daves.waitFor(3);
    expect(davesEvents.map((e) => summary(e.event))).toEqual(["conversation.updated:all", "message.updated:old, edited", "message.updated:old, edited"]);
    await settle();
    expect(carols.stored.map((e) => e.event.type)).toEqual(["conversation.removed"]);
    // Resuming from before the removal gives carol the removal and nothing after it.
    const resumed = await subscribe(server(), carol, String(BigInt(position) - 1n));
    await resumed.waitFor(1);
    await settle();
    expect(resumed.stored.map((e) => e.event.type)).toEqual(["conversation.removed"]);
    expect(await errorCodeOf(carol.api.message.react.mutate({ messageId: old.id, emoji: "👍", on: true }))).toBe("FORBIDDEN");
  });

  it("the same content changes nothing; the same rules as send; only the sender; a deleted or missing message is refused", async () => {
    const { alice, bob, conversationId } = await group(server());
    const outsider = await signUpAndLogIn(server());
    const sent = await send(alice, conversationId, "typo");
    const bobs = await subscribe(server(), bob);
    expect(await alice.api.message.edit.mutate({ messageId: sent.id, content: "typo" })).toEqual(sent);
    expect(await errorCodeOf(alice.api.message.edit.mutate({ messageId: sent.id, content: "   " }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.message.edit.mutate({ messageId: sent.id, content: "x".repeat(4001) }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(bob.api.message.edit.mutate({ messageId: sent.id, content: "not mine" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(outsider.api.message.edit.mutate({ messageId: sent.id, content: "not mine" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(alice.api.message.edit.mutate({ messageId: "999999999999", content: "nothing" }))).toBe("NOT_FOUND");
    await alice.api.message.delete.mutate({ messageId: sent.id });
    expect(await errorCodeOf(alice.api.message.edit.mutate({ messageId: sent.id, content: "again" }))).toBe("BAD_REQUEST");
    await bobs.waitFor(2);
    await settle();
    // Only the delete was an event (with bob's counts: it was unread for him).
    expect(bobs.stored.map((e) => summary(e.event))).toEqual(["message.updated:(deleted)", "read.updated:0/0"]);
  });
});

describeEachProvider("message.delete", (provider) => {
  const server = suiteServer(provider);

  it("the sender deletes: a tombstone keeps its id and place, without content, mentions or reactions; deleting again changes nothing", async () => {
    const { alice, bob, conversationId } = await group(server());
    const before = await send(alice, conversationId, "before");
    const doomed = await send(alice, conversationId, `secret for @${bob.username}`);
    const after = await send(bob, conversationId, "after");
    await bob.api.message.react.mutate({ messageId: doomed.id, emoji: "👍", on: true });
    const bobs = await subscribe(server(), bob);
    const tombstone = await alice.api.message.delete.mutate({ messageId: doomed.id });
    expect(tombstone).toMatchObject({ id: doomed.id, content: "", mentions: [], reactions: [], clientMessageId: doomed.clientMessageId, createdAt: doomed.createdAt });
    expect(tombstone.deletedAt).not.toBeNull();
    expect((await bob.api.message.list.query({ conversationId })).items.map((m) => m.id)).toEqual([before.id, doomed.id, after.id]);
    expect((await bob.api.message.list.query({ conversationId })).items[1]).toEqual(tombstone);
    const [event] = await bobs.waitFor(1);
    expect(event?.event).toEqual({ type: "message.updated", message: tombstone });
    // Idempotent: the tombstone again, and no event.
    expect(await alice.api.message.delete.mutate({ messageId: doomed.id })).toEqual(tombstone);
    await settle();
    expect(bobs.stored).toHaveLength(1);
    expect(await errorCodeOf(bob.api.message.react.mutate({ messageId: doomed.id, emoji: "👍", on: true }))).toBe("BAD_REQUEST");
  });

  it("an owner of the group may delete anyone's message; another member may not", async () => {
    const { alice, bob, carol, conversationId } = await group(server());
    const bobsMessage = await send(bob, conversationId, "bob's");
    expect(await errorCodeOf(carol.api.message.delete.mutate({ messageId: bobsMessage.id }))).toBe("FORBIDDEN");
    expect((await alice.api.message.delete.mutate({ messageId: bobsMessage.id })).deletedAt).not.toBeNull();
    const carolsMessage = await send(carol, conversationId, "carol's");
    expect(await errorCodeOf(bob.api.message.delete.mutate({ messageId: carolsMessage.id }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(bob.api.message.delete.mutate({ messageId: "999999999999" }))).toBe("NOT_FOUND");
  });

  it("the deleted content is gone from storage: not in the database files, not readable by SQL", async () => {
    const { alice, conversationId } = await group(server());
    const secret = `secret-${randomUUID()}`;
    // Long enough (in UTF-8) to spill into overflow pages, which a delete frees rather than rewrites.
    const padding = "é".repeat(3000);
    const sent = await send(alice, conversationId, `${padding} the launch code is ${secret}`);
    await alice.api.message.edit.mutate({ messageId: sent.id, content: `${padding} the launch code is ${secret}!` });
    const db = server().services.db;
    const readable = async () => {
      const pattern = `%${secret}%`;
      const rows =
        provider === "postgresql"
          ? await db.prisma.$queryRawUnsafe<{ n: number }[]>(
              `SELECT ((SELECT count(*) FROM "Message" m WHERE m::text LIKE $1) + (SELECT count(*) FROM "Event" e WHERE e::text LIKE $1))::int AS n`,
              pattern,
            )
          : await db.prisma.$queryRawUnsafe<{ n: bigint | number }[]>(
              `SELECT (SELECT count(*) FROM "Message" WHERE "content" LIKE ? OR "mentions" LIKE ? OR "reactions" LIKE ?) + (SELECT count(*) FROM "Event" WHERE "data" LIKE ?) AS n`,
              pattern,
              pattern,
              pattern,
              pattern,
            );
      return Number(rows[0]?.n ?? 0);
    };
    const fileBytes = () => {
      const path = server().database.url.slice("file:".length);
      return [path, `${path}-wal`, `${path}-journal`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
    };
    const inFiles = () => fileBytes().some((bytes) => bytes.includes(Buffer.from(secret, "utf8")));
    expect(await readable()).toBe(1);
    if (provider === "sqlite") {
      // Copied into the database file itself first (not only the WAL), where a delete could leave it in freed space.
      await db.scrubRemovedContent();
      expect(inFiles()).toBe(true);
      expect(fileBytes()[0]?.includes(Buffer.from(secret, "utf8"))).toBe(true);
    }

    await alice.api.message.delete.mutate({ messageId: sent.id });
    expect(await readable()).toBe(0);
    if (provider === "sqlite") expect(inFiles()).toBe(false);
  });

  it("counts: deleting a message someone had unread takes it off their unread (and mention) count, and they get read.updated with the new counts", async () => {
    const { alice, bob, carol, conversationId } = await group(server());
    const first = await send(alice, conversationId, "first");
    await bob.api.conversation.markRead.mutate({ conversationId, messageId: first.id });
    const mention = await send(alice, conversationId, `hey @${bob.username}`);
    await send(alice, conversationId, "plain");
    await send(carol, conversationId, "from carol");
    expect(await bob.api.conversation.get.query({ conversationId })).toMatchObject({ unreadCount: 3, mentionCount: 1 });
    const [bobs, carols] = [await subscribe(server(), bob), await subscribe(server(), carol)];

    await alice.api.message.delete.mutate({ messageId: mention.id });
    const events = await bobs.waitFor(2);
    expect(events.map((e) => summary(e.event))).toEqual(["message.updated:(deleted)", "read.updated:2/0"]);
    expect(events[1]?.event).toEqual({ type: "read.updated", conversationId, userId: bob.id, lastReadMessageId: first.id, unreadCount: 2, mentionCount: 0 });
    expect(await bob.api.conversation.get.query({ conversationId })).toMatchObject({ unreadCount: 2, mentionCount: 0 });
    // Carol's pointer is at her own later message: it was not unread for her, and she gets no counts.
    await settle();
    expect(carols.stored.map((e) => summary(e.event))).toEqual(["message.updated:(deleted)"]);
    expect(await carol.api.conversation.get.query({ conversationId })).toMatchObject({ unreadCount: 0, mentionCount: 0 });
    // Recounting on markRead agrees: deleted messages are not unread.
    const read = await bob.api.conversation.markRead.mutate({ conversationId, messageId: mention.id });
    expect(read).toEqual({ lastReadMessageId: mention.id, unreadCount: 2, mentionCount: 0 });
  });
});

describeEachProvider("message.react", (provider) => {
  const server = suiteServer(provider);

  it("aggregates per emoji with who reacted; on twice is one; off when absent changes nothing; each change is message.updated", async () => {
    const { alice, bob, carol, conversationId } = await group(server());
    const sent = await send(alice, conversationId, "ship it?");
    const carols = await subscribe(server(), carol);
    await bob.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true });
    await bob.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true });
    await alice.api.message.react.mutate({ messageId: sent.id, emoji: "🎉", on: true });
    const reacted = await alice.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true });
    expect(reacted.reactions).toEqual([
      { emoji: "👍", count: 2, userIds: [bob.id, alice.id] },
      { emoji: "🎉", count: 1, userIds: [alice.id] },
    ]);
    expect(await carol.api.message.react.mutate({ messageId: sent.id, emoji: "❤️", on: false })).toEqual(reacted);
    const off = await bob.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: false });
    expect(off.reactions).toEqual([
      { emoji: "👍", count: 1, userIds: [alice.id] },
      { emoji: "🎉", count: 1, userIds: [alice.id] },
    ]);
    const events = await carols.waitFor(4);
    await settle();
    expect(carols.stored).toHaveLength(4);
    expect(events.at(-1)?.event).toEqual({ type: "message.updated", message: off });
    expect((await carol.api.message.list.query({ conversationId })).items[0]?.reactions).toEqual(off.reactions);
  });

  it("reactions made at the same moment by many members all count, each once", async () => {
    const { alice, conversationId } = await group(server());
    const others = await Promise.all(Array.from({ length: 5 }, () => signUpAndLogIn(server())));
    await alice.api.conversation.addMembers.mutate({ conversationId, userIds: others.map((u) => u.id) });
    const sent = await send(alice, conversationId, "everyone react");
    await Promise.all(others.flatMap((u) => [u.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true }), u.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true })]));
    const [stored] = (await alice.api.message.list.query({ conversationId })).items.filter((m) => m.id === sent.id);
    expect(stored?.reactions).toHaveLength(1);
    expect(stored?.reactions[0]?.count).toBe(5);
    expect(new Set(stored?.reactions[0]?.userIds)).toEqual(new Set(others.map((u) => u.id)));
  });

  it("refuses bad emoji, a 21st different emoji, a deleted message and non-members", async () => {
    const { alice, bob, conversationId } = await group(server());
    const outsider = await signUpAndLogIn(server());
    const sent = await send(alice, conversationId, "react");
    for (const emoji of ["", " ", "a b", "x".repeat(33), "\u200b"]) {
      expect(await errorCodeOf(bob.api.message.react.mutate({ messageId: sent.id, emoji, on: true })), JSON.stringify(emoji)).toBe("BAD_REQUEST");
    }
    for (let i = 0; i < 20; i += 1) await bob.api.message.react.mutate({ messageId: sent.id, emoji: `e${i}`, on: true });
    expect(await errorCodeOf(alice.api.message.react.mutate({ messageId: sent.id, emoji: "one-more", on: true }))).toBe("BAD_REQUEST");
    // One of the 20 already there is fine.
    expect((await alice.api.message.react.mutate({ messageId: sent.id, emoji: "e0", on: true })).reactions[0]).toEqual({ emoji: "e0", count: 2, userIds: [bob.id, alice.id] });
    expect(await errorCodeOf(outsider.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(bob.api.message.react.mutate({ messageId: "999999999999", emoji: "👍", on: true }))).toBe("NOT_FOUND");
  });
});

describeEachProvider("threads", (provider) => {
  const server = suiteServer(provider);

  it("a reply names a root; the root's replyCount and lastReplyAt move with message.updated; the main list shows roots only", async () => {
    const { alice, bob, conversationId } = await group(server());
    const root = await send(alice, conversationId, "root");
    const bobs = await subscribe(server(), bob);
    const reply = await send(bob, conversationId, "reply 1", root.id);
    expect(reply).toMatchObject({ threadId: root.id, content: "reply 1", replyCount: 0 });
    const events = await bobs.waitFor(2);
    expect(events.map((e) => e.event.type)).toEqual(["message.created", "message.updated"]);
    const updatedRoot = (events[1]?.event as { message: MessageDto }).message;
    expect(updatedRoot).toMatchObject({ id: root.id, replyCount: 1, lastReplyAt: reply.createdAt });
    expect(events[0]?.id).toBe(reply.id);
    const later = await send(alice, conversationId, "later root");
    const main = await alice.api.message.list.query({ conversationId });
    expect(main.items.map((m) => m.id)).toEqual([root.id, later.id]);
    expect(main.items[0]).toMatchObject({ replyCount: 1 });
    // A reply counts as unread like any message; sending one marks the sender's conversation read.
    expect(await alice.api.conversation.get.query({ conversationId })).toMatchObject({ unreadCount: 0 });
    expect((await bob.api.conversation.get.query({ conversationId })).unreadCount).toBe(1);
  });

  it("pages a thread with threadId (oldest first in a page, the same cursor rules), and refuses replies to replies, other conversations and missing roots", async () => {
    const { alice, bob, conversationId } = await group(server());
    const other = await alice.api.conversation.create.mutate({ title: "Other", memberIds: [bob.id] });
    const root = await send(alice, conversationId, "root");
    const replies: MessageDto[] = [];
    for (let i = 0; i < 5; i += 1) replies.push(await send(i % 2 ? alice : bob, conversationId, `reply ${i}`, root.id));
    await send(alice, conversationId, "not in the thread");
    const first = await bob.api.message.list.query({ conversationId, threadId: root.id, limit: 3 });
    expect(first.items.map((m) => m.content)).toEqual(["reply 2", "reply 3", "reply 4"]);
    expect(first.nextCursor).toBe(replies[2]?.id);
    const second = await bob.api.message.list.query({ conversationId, threadId: root.id, limit: 3, cursor: first.nextCursor });
    expect(second).toEqual({ items: replies.slice(0, 2), nextCursor: null });
    expect((await bob.api.message.list.query({ conversationId })).items.find((m) => m.id === root.id)).toMatchObject({ replyCount: 5, lastReplyAt: replies[4]?.createdAt });

    expect(await errorCodeOf(send(alice, conversationId, "nested", replies[0]?.id))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(send(alice, other.id, "elsewhere", root.id))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(send(alice, conversationId, "nowhere", "999999999999"))).toBe("NOT_FOUND");
    expect(await errorCodeOf(bob.api.message.list.query({ conversationId, threadId: replies[0]?.id ?? "" }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(bob.api.message.list.query({ conversationId: other.id, threadId: root.id }))).toBe("NOT_FOUND");
    // A retried reply is the stored one, once.
    const retry = { conversationId, content: "retry", clientMessageId: clientMessageId(), threadId: root.id };
    const once = await alice.api.message.send.mutate(retry);
    expect(await alice.api.message.send.mutate(retry)).toEqual(once);
    expect((await bob.api.message.list.query({ conversationId, threadId: root.id })).items.filter((m) => m.content === "retry")).toHaveLength(1);
    // Deleting a reply takes it off the root's count.
    await alice.api.message.delete.mutate({ messageId: once.id });
    expect((await bob.api.message.list.query({ conversationId })).items.find((m) => m.id === root.id)).toMatchObject({ replyCount: 5 });
  });

  it("v1: message.list without threadId and message.live keep their shapes; message.live delivers replies as new messages and no updates", async () => {
    const { alice, bob, conversationId } = await group(server());
    const before = server().services.hub.subscriptionCount;
    const received = collectLive(live(server(), bob));
    await waitForSubscribers(server(), before + 1);
    const root = await send(alice, conversationId, "root");
    const reply = await send(alice, conversationId, "reply", root.id);
    await alice.api.message.edit.mutate({ messageId: root.id, content: "root, edited" });
    const after = await send(alice, conversationId, "after");
    const messages = await received.waitFor(3);
    await settle();
    expect(received.messages.map((m) => m.id)).toEqual([root.id, reply.id, after.id]);
    expect(messages[1]).toEqual(reply);
  });
});

describeEachProvider("conversation.setNotify", (provider) => {
  const server = suiteServer(provider);

  it("is the caller's own level, returned on list and get, told to the caller's own tabs only", async () => {
    const { alice, bob, conversationId } = await group(server());
    expect((await bob.api.conversation.get.query({ conversationId })).notify).toBe("all");
    const [alices, bobs] = [await subscribe(server(), alice), await subscribe(server(), bob)];
    const muted = await bob.api.conversation.setNotify.mutate({ conversationId, level: "none" });
    expect(muted.notify).toBe("none");
    expect((await bob.api.conversation.list.query()).find((c) => c.id === conversationId)?.notify).toBe("none");
    expect((await alice.api.conversation.get.query({ conversationId })).notify).toBe("all");
    const [event] = await bobs.waitFor(1);
    expect(event?.event).toMatchObject({ type: "conversation.updated", conversation: { id: conversationId, notify: "none" } });
    // The same level again changes nothing.
    await bob.api.conversation.setNotify.mutate({ conversationId, level: "none" });
    await bob.api.conversation.setNotify.mutate({ conversationId, level: "mentions" });
    await bobs.waitFor(2);
    // Later conversation events carry each member's own level.
    await alice.api.conversation.rename.mutate({ conversationId, title: "Renamed" });
    const all = await bobs.waitFor(3);
    expect(all[2]?.event).toMatchObject({ type: "conversation.updated", conversation: { title: "Renamed", notify: "mentions" } });
    expect((await alices.waitFor(1))[0]?.event).toMatchObject({ type: "conversation.updated", conversation: { title: "Renamed", notify: "all" } });
    await settle();
    expect(alices.stored).toHaveLength(1);
    expect(await errorCodeOf(bob.api.conversation.setNotify.mutate({ conversationId, level: "muted" as "none" }))).toBe("BAD_REQUEST");
  });
});

describeEachProvider("message changes across a restart and under limits", (provider: Provider) => {
  it("a client offline while messages were edited, reacted to and deleted resumes after a restart and sees each in order, as it is now", async () => {
    let target = await startTestServer(provider, { api: testLimits() });
    cleanups.push(() => target.close().then(() => target.database.drop()));
    const { alice, bob, conversationId } = await group(target);
    const first = await subscribe(target, bob);
    const kept = await send(alice, conversationId, "kept");
    const doomed = await send(alice, conversationId, "doomed");
    const position = (await first.waitFor(2)).at(-1)?.id ?? "";
    first.unsubscribe();
    expect(position).toBe(doomed.id);

    await alice.api.message.edit.mutate({ messageId: kept.id, content: "kept, edited" });
    await bob.api.message.react.mutate({ messageId: kept.id, emoji: "👍", on: true });
    await alice.api.message.edit.mutate({ messageId: doomed.id, content: "doomed, edited" });
    await alice.api.message.delete.mutate({ messageId: doomed.id });
    target = await target.restart();

    const resumed = await subscribe(target, bob, position);
    const events = await resumed.waitFor(5);
    await settle();
    expect(resumed.stored).toHaveLength(5);
    // Each change once, in order, showing the message as it is now (the edit of the deleted one as its tombstone).
    expect(events.map((e) => summary(e.event))).toEqual([
      "message.updated:kept, edited",
      "message.updated:kept, edited",
      "message.updated:(deleted)",
      "message.updated:(deleted)",
      "read.updated:1/0",
    ]);
    const finalKept = (events[0]?.event as { message: MessageDto }).message;
    expect(finalKept.reactions).toEqual([{ emoji: "👍", count: 1, userIds: [bob.id] }]);
    expect(finalKept.editedAt).not.toBeNull();
    expect((events[3]?.event as { message: MessageDto }).message).toMatchObject({ id: doomed.id, content: "", deletedAt: expect.any(String) });
    // Ids only grow.
    const ids = events.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
  });

  it("edits, reactions and deletes count against the caller's change limit; refused input costs nothing", async () => {
    const target = await startTestServer(provider, { api: testLimits({ messageChangesPerUser: { max: 3, windowSeconds: 60 } }) });
    cleanups.push(() => target.close().then(() => target.database.drop()));
    const { alice, conversationId } = await group(target);
    const sent = await send(alice, conversationId, "limit");
    expect(await errorCodeOf(alice.api.message.react.mutate({ messageId: sent.id, emoji: "a b", on: true }))).toBe("BAD_REQUEST");
    await alice.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: false }); // nothing to remove: free
    await alice.api.message.react.mutate({ messageId: sent.id, emoji: "👍", on: true });
    await alice.api.message.edit.mutate({ messageId: sent.id, content: "limit, edited" });
    await alice.api.message.react.mutate({ messageId: sent.id, emoji: "🎉", on: true });
    expect(await errorCodeOf(alice.api.message.react.mutate({ messageId: sent.id, emoji: "❤️", on: true }))).toBe("TOO_MANY_REQUESTS");
    expect(await errorCodeOf(alice.api.message.edit.mutate({ messageId: sent.id, content: "again" }))).toBe("TOO_MANY_REQUESTS");
    expect((await alice.api.message.list.query({ conversationId })).items[0]).toMatchObject({ content: "limit, edited", reactions: [{ emoji: "👍" }, { emoji: "🎉" }] });
  });
});

const missing = [!postgresUrl && "TEST_DATABASE_URL", !redisUrl && "TEST_REDIS_URL"].filter(Boolean);
describe.skipIf(missing.length > 0)(`message changes across two instances on PostgreSQL and Redis${missing.length ? ` (skipped: ${missing.join(" and ")} not set)` : ""}`, () => {
  it("an edit, a reaction, a reply and a delete made on one instance reach a subscriber on the other, in order, once", async () => {
    const database = await createTestDatabase("postgresql");
    cleanups.push(() => database.drop());
    const channel = `parley:test:${randomUUID()}`;
    const a = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api: testLimits() });
    cleanups.push(() => a.close());
    const b = await startTestServer("postgresql", { database, redisUrl, redisChannel: channel, api: testLimits() });
    cleanups.push(() => b.close());
    const alice = await signUpAndLogIn(a);
    const bob = await signUpAndLogIn(b);
    const { id: conversationId } = await alice.api.conversation.create.mutate({ title: "Two", memberIds: [bob.id] });
    const onB = await subscribe(b, bob);
    const root = await send(alice, conversationId, "root");
    await alice.api.message.edit.mutate({ messageId: root.id, content: "root, edited" });
    await alice.api.message.react.mutate({ messageId: root.id, emoji: "👍", on: true });
    const reply = await send(alice, conversationId, "reply", root.id);
    await alice.api.message.delete.mutate({ messageId: reply.id });
    const events = await onB.waitFor(8);
    await settle();
    expect(onB.stored).toHaveLength(8);
    expect(events.map((e) => summary(e.event))).toEqual([
      "message.created:root",
      "message.updated:root, edited",
      "message.updated:root, edited",
      "message.created:reply",
      "message.updated:root, edited",
      "message.updated:(deleted)",
      "read.updated:1/0",
      "message.updated:root, edited",
    ]);
    expect((events[2]?.event as { message: MessageDto }).message.reactions).toEqual([{ emoji: "👍", count: 1, userIds: [alice.id] }]);
    expect((events[4]?.event as { message: MessageDto }).message.replyCount).toBe(1);
    expect((events[7]?.event as { message: MessageDto }).message.replyCount).toBe(0);
    const ids = events.map((e) => BigInt(e.id));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
    expect(new Set(ids).size).toBe(8);
  });
});

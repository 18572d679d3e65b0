// The v2 event feed end to end, over real HTTP and WebSocket clients, on SQLite and PostgreSQL:
// sync.events (order, ids, resume, retention), membership changes and roles, read state and
// mentions, and message.live as the messages-only view of the same feed.
import { describe, expect, it } from "vitest";
import type { FeedEvent, MessageDto } from "@parley/api/schemas";
import {
  clientMessageId,
  collectLive,
  collectSync,
  describeEachProvider,
  errorCodeOf,
  signUpAndLogIn,
  sleep,
  perTestCleanup,
  startTestServer,
  suiteServer,
  waitForSubscribers,
  type SignedIn,
} from "./harness.js";

const { cleanups, live, subscribe } = perTestCleanup();

const send = (user: SignedIn, conversationId: string, content: string): Promise<MessageDto> =>
  user.api.message.send.mutate({ conversationId, content, clientMessageId: clientMessageId() });

/** A compact picture of a stream: event types with the detail that matters. */
function summary(event: FeedEvent): string {
  switch (event.type) {
    case "message.created":
    case "message.updated":
      return `${event.type}:${event.message.content}`;
    case "conversation.updated":
      return `${event.type}:${event.conversation.members.length}`;
    case "read.updated":
      return `${event.type}:${event.unreadCount ?? "-"}`;
    case "conversation.removed":
    case "typing":
    case "presence":
      return event.type;
  }
}

/** Lets anything in flight arrive, so that "nothing more" is checked after it would have. */
const settle = () => sleep(300);

describeEachProvider("sync.events", (provider) => {
  const server = suiteServer(provider);

  it("gives every member a conversation's creation, its messages and read pointers, each with an event id that only grows", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const [alices, bobs] = [await subscribe(server(), alice), await subscribe(server(), bob)];
    const group = await alice.api.conversation.create.mutate({ title: "Launch", memberIds: [bob.id] });
    const hello = await send(alice, group.id, `hello @${bob.username.toUpperCase()}`);
    expect(hello.mentions).toEqual([bob.id]);
    const read = await bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: hello.id });
    expect(read).toEqual({ lastReadMessageId: hello.id, unreadCount: 0, mentionCount: 0 });

    const events = await bobs.waitFor(3);
    expect(events.map((e) => summary(e.event))).toEqual(["conversation.updated:2", `message.created:hello @${bob.username.toUpperCase()}`, "read.updated:0"]);
    const [created, message, pointer] = events.map((e) => e.event);
    expect(created).toMatchObject({ type: "conversation.updated", conversation: { id: group.id, title: "Launch", unreadCount: 0, mentionCount: 0, lastReadMessageId: null } });
    expect(message).toEqual({ type: "message.created", message: hello });
    // The reader's own tabs get the counts ...
    expect(pointer).toEqual({ type: "read.updated", conversationId: group.id, userId: bob.id, lastReadMessageId: hello.id, unreadCount: 0, mentionCount: 0 });
    // ... the others a read receipt without them.
    const alicesEvents = await alices.waitFor(3);
    expect(alicesEvents[2]?.event).toEqual({ type: "read.updated", conversationId: group.id, userId: bob.id, lastReadMessageId: hello.id });
    // One order for everyone: the same ids, increasing, and a message's event id is its id.
    const ids = events.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    expect(alicesEvents.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(events[1]?.id).toBe(hello.id);
  });

  it("resuming with lastEventId replays exactly what was missed, in order, then goes on live", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Resume", memberIds: [bob.id] });
    const first = await subscribe(server(), bob);
    const seen = await send(alice, group.id, "seen");
    await first.waitFor(1);
    first.unsubscribe();
    const missed = [await send(alice, group.id, "missed 1"), await send(bob, group.id, "missed 2")];
    await alice.api.conversation.rename.mutate({ conversationId: group.id, title: "Resumed" });

    const resumed = await subscribe(server(), bob, seen.id);
    const replayed = await resumed.waitFor(3);
    expect(replayed.map((e) => summary(e.event))).toEqual(["message.created:missed 1", "message.created:missed 2", "conversation.updated:2"]);
    expect(replayed[2]?.event).toMatchObject({ conversation: { title: "Resumed", unreadCount: 0, lastReadMessageId: missed[1]?.id } });
    const after = await send(alice, group.id, "live");
    const all = await resumed.waitFor(4);
    expect(all[3]).toEqual({ id: after.id, event: { type: "message.created", message: after } });
    await settle();
    expect(resumed.stored).toHaveLength(4);
  });

  it("a position beyond the newest event is PRECONDITION_FAILED, as a stream error the client can act on", async () => {
    const alice = await signUpAndLogIn(server());
    const latest = await server().services.db.messages.latestId();
    const stream = collectSync(live(server(), alice), (latest + 1000n).toString());
    await expect.poll(() => stream.errors.length, { timeout: 5_000 }).toBe(1);
    expect(stream.errors[0]).toMatchObject({ data: { code: "PRECONDITION_FAILED" } });
  });

  it("passes typing on, untracked, to the other members only", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Typing", memberIds: [bob.id] });
    const [alices, bobs, carols] = [await subscribe(server(), alice), await subscribe(server(), bob), await subscribe(server(), carol)];
    await alice.api.typing.set.mutate({ conversationId: group.id });
    expect(await bobs.waitForEphemeral((e) => e.type === "typing")).toEqual({ type: "typing", conversationId: group.id, userId: alice.id });
    await settle();
    expect(alices.ephemeral.filter((e) => e.type === "typing")).toEqual([]);
    expect(carols.ephemeral.filter((e) => e.type === "typing")).toEqual([]);
    // Ephemeral: nothing of it in the stored feed.
    expect(bobs.stored).toEqual([]);
  });
});

describeEachProvider("membership", (provider) => {
  const server = suiteServer(provider);

  it("an added member gets the conversation, then every later event, and the history through message.list", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Team", memberIds: [bob.id] });
    const before = await send(alice, group.id, "before carol");
    const [bobs, carols] = [await subscribe(server(), bob), await subscribe(server(), carol)];

    // Any member may add; someone already in it is ignored.
    const updated = await bob.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [carol.id, alice.id] });
    expect(updated.members.map((m) => [m.id, m.role])).toEqual([
      [alice.id, "owner"],
      [bob.id, "member"],
      [carol.id, "member"],
    ]);
    const after = await send(alice, group.id, "after carol");

    const carolsEvents = await carols.waitFor(2);
    expect(carolsEvents.map((e) => summary(e.event))).toEqual(["conversation.updated:3", "message.created:after carol"]);
    // Everything before they joined counts as read.
    expect(carolsEvents[0]?.event).toMatchObject({ conversation: { lastReadMessageId: before.id, unreadCount: 0, mentionCount: 0 } });
    expect((await bobs.waitFor(2)).map((e) => summary(e.event))).toEqual(["conversation.updated:3", "message.created:after carol"]);
    expect((await carol.api.message.list.query({ conversationId: group.id })).items.map((m) => m.id)).toEqual([before.id, after.id]);
    expect((await carol.api.conversation.get.query({ conversationId: group.id })).unreadCount).toBe(1);
    // Adding nobody new changes nothing and tells no one.
    await alice.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [bob.id] });
    await settle();
    expect(carols.stored).toHaveLength(2);
  });

  it("a removed member gets conversation.removed as the last event of it, and can no longer read or write", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Trim", memberIds: [bob.id, carol.id] });
    const bobs = await subscribe(server(), bob);
    const subscribed = server().services.hub.subscriptionCount;
    const bobsV1 = collectLive(live(server(), bob));
    await waitForSubscribers(server(), subscribed + 1);
    await send(alice, group.id, "while a member");
    await bobsV1.waitFor(1);

    const remaining = await alice.api.conversation.removeMember.mutate({ conversationId: group.id, userId: bob.id });
    // Alice and carol joined at the same moment: members of one instant come in id order, which signing up at once leaves to chance.
    expect(remaining.members.map((m) => m.id).sort()).toEqual([alice.id, carol.id].sort());
    await send(alice, group.id, "after bob left");
    await send(carol, group.id, "still after");

    const events = await bobs.waitFor(2);
    await settle();
    expect(bobs.stored.map((e) => summary(e.event))).toEqual(["message.created:while a member", "conversation.removed"]);
    expect(events[1]?.event).toEqual({ type: "conversation.removed", conversationId: group.id });
    expect(bobsV1.messages.map((m) => m.content)).toEqual(["while a member"]);
    expect(await errorCodeOf(send(bob, group.id, "let me back"))).toBe("FORBIDDEN");
    expect(await errorCodeOf(bob.api.message.list.query({ conversationId: group.id }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(bob.api.conversation.get.query({ conversationId: group.id }))).toBe("FORBIDDEN");
    expect((await bob.api.conversation.list.query()).map((c) => c.id)).not.toContain(group.id);
  });

  it("only owners rename and remove; anyone adds and leaves", async () => {
    const [alice, bob, carol, dave] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Roles", memberIds: [bob.id, carol.id] });
    expect(await errorCodeOf(bob.api.conversation.rename.mutate({ conversationId: group.id, title: "Mine now" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(bob.api.conversation.removeMember.mutate({ conversationId: group.id, userId: carol.id }))).toBe("FORBIDDEN");
    expect((await bob.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [dave.id] })).memberCount).toBe(4);
    expect((await alice.api.conversation.rename.mutate({ conversationId: group.id, title: "  Renamed  " })).title).toBe("Renamed");
    // An empty title clears it.
    expect((await alice.api.conversation.rename.mutate({ conversationId: group.id, title: "" })).title).toBeNull();
    expect(await carol.api.conversation.leave.mutate({ conversationId: group.id })).toEqual({ ok: true });
    const after = await alice.api.conversation.get.query({ conversationId: group.id });
    // In joining order; alice and bob joined at the same moment (then id order, left to chance by signing up at once).
    expect(after.members.map((m) => m.id)).toEqual([...[alice.id, bob.id].sort(), dave.id]);
    // Nothing changed by the refusals.
    expect(after.members.find((m) => m.id === bob.id)?.role).toBe("member");
  });

  it("when the last owner leaves the longest-standing member becomes owner; when the last member leaves the group is gone", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Passing on", memberIds: [bob.id] });
    await sleep(5);
    await alice.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [carol.id] });
    await send(bob, group.id, "history");
    await alice.api.conversation.leave.mutate({ conversationId: group.id });
    const now = await bob.api.conversation.get.query({ conversationId: group.id });
    expect(now.members.map((m) => [m.id, m.role])).toEqual([
      [bob.id, "owner"],
      [carol.id, "member"],
    ]);
    await bob.api.conversation.rename.mutate({ conversationId: group.id, title: "Bob's now" });
    const carols = await subscribe(server(), carol);
    await bob.api.conversation.leave.mutate({ conversationId: group.id });
    await carol.api.conversation.leave.mutate({ conversationId: group.id });
    const events = await carols.waitFor(2);
    expect(events.map((e) => summary(e.event))).toEqual(["conversation.updated:1", "conversation.removed"]);
    expect(await errorCodeOf(carol.api.conversation.get.query({ conversationId: group.id }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(alice.api.message.list.query({ conversationId: group.id }))).toBe("NOT_FOUND");
    expect(await server().services.db.prisma.message.count({ where: { conversationId: group.id } })).toBe(0);
  });

  it("direct conversations cannot be renamed, added to, removed from or left", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const direct = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const conversationId = direct.id;
    expect(await errorCodeOf(alice.api.conversation.rename.mutate({ conversationId, title: "x" }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.addMembers.mutate({ conversationId, userIds: [carol.id] }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.removeMember.mutate({ conversationId, userId: bob.id }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(bob.api.conversation.leave.mutate({ conversationId }))).toBe("BAD_REQUEST");
    expect((await alice.api.conversation.get.query({ conversationId })).members.map((m) => [m.id, m.role])).toEqual(
      expect.arrayContaining([
        [alice.id, "member"],
        [bob.id, "member"],
      ]),
    );
  });

  it("refuses what does not exist or is not allowed, and changes nothing", async () => {
    const [alice, bob, carol, mallory] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Guarded", memberIds: [bob.id] });
    const conversationId = group.id;
    const events = () => server().services.db.prisma.event.count({ where: { conversationId } });
    const before = await events();
    expect(await errorCodeOf(alice.api.conversation.removeMember.mutate({ conversationId, userId: carol.id }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(alice.api.conversation.removeMember.mutate({ conversationId, userId: alice.id }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.addMembers.mutate({ conversationId, userIds: [carol.id, "no-such-user"] }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.addMembers.mutate({ conversationId, userIds: [] }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(mallory.api.conversation.addMembers.mutate({ conversationId, userIds: [mallory.id] }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(mallory.api.conversation.leave.mutate({ conversationId }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(mallory.api.conversation.rename.mutate({ conversationId, title: "pwned" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(alice.api.conversation.rename.mutate({ conversationId, title: "t".repeat(101) }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.leave.mutate({ conversationId: "no-such-conversation" }))).toBe("NOT_FOUND");
    expect(await events()).toBe(before);
    // Who, not in which order: members who joined together are ordered by id, and these four signed up at once.
    expect((await alice.api.conversation.get.query({ conversationId })).members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
  });

  it("a member removed and added again while offline resumes with: the removal, the return, and only what came after it", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Away", memberIds: [bob.id] });
    const seen = await send(alice, group.id, "seen");
    await send(alice, group.id, "missed while a member");
    await alice.api.conversation.removeMember.mutate({ conversationId: group.id, userId: bob.id });
    await send(alice, group.id, "while removed");
    await alice.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [bob.id] });
    await send(alice, group.id, "after return");

    const resumed = await subscribe(server(), bob, seen.id);
    await resumed.waitFor(4);
    await settle();
    expect(resumed.stored.map((e) => summary(e.event))).toEqual([
      "message.created:missed while a member",
      "conversation.removed",
      "conversation.updated:2",
      "message.created:after return",
    ]);
    // message.live, the messages-only view, follows the same rule.
    const v1 = collectLive(live(server(), bob), seen.id);
    await v1.waitFor(2);
    await settle();
    expect(v1.messages.map((m) => m.content)).toEqual(["missed while a member", "after return"]);
    // The history is there for them again, including what was sent while they were away.
    expect((await bob.api.message.list.query({ conversationId: group.id })).items.map((m) => m.content)).toContain("while removed");
  });
});

describeEachProvider("read state", (provider) => {
  const server = suiteServer(provider);

  it("counts unread and mentions per member, kept on every list, moved forward only by markRead, and reset by sending", async () => {
    const [alice, bob, carol, dave] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Counts", memberIds: [bob.id, carol.id] });
    const other = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const m1 = await send(alice, group.id, "morning");
    const m2 = await send(alice, group.id, `@${bob.username} and @${dave.username} (not a member), look`);
    const m3 = await send(carol, group.id, `@${bob.username.toUpperCase()}!`);
    const elsewhere = await send(alice, other.id, "elsewhere");
    expect(m2.mentions).toEqual([bob.id]);
    expect(m3.mentions).toEqual([bob.id]);

    const counts = async (user: SignedIn) => {
      const listed = (await user.api.conversation.list.query()).find((c) => c.id === group.id);
      return [listed?.unreadCount, listed?.mentionCount, listed?.lastReadMessageId];
    };
    expect(await counts(bob)).toEqual([3, 2, null]);
    // carol sent the newest: sending read everything before it.
    expect(await counts(carol)).toEqual([0, 0, m3.id]);
    expect(await counts(alice)).toEqual([1, 0, m2.id]);

    expect(await bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: m2.id })).toEqual({ lastReadMessageId: m2.id, unreadCount: 1, mentionCount: 1 });
    // Backwards changes nothing.
    expect(await bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: m1.id })).toEqual({ lastReadMessageId: m2.id, unreadCount: 1, mentionCount: 1 });
    expect(await errorCodeOf(bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: elsewhere.id }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: "999999999" }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: "not-an-id" }))).toBe("BAD_REQUEST");
    expect(await counts(bob)).toEqual([1, 1, m2.id]);
    expect((await bob.api.conversation.get.query({ conversationId: group.id })).unreadCount).toBe(1);

    const mine = await send(bob, group.id, "caught up");
    expect(await counts(bob)).toEqual([0, 0, mine.id]);
    expect(await counts(carol)).toEqual([1, 0, m3.id]);
  });

  it("shows every member's read pointer (read receipts) on the conversation, as list, get and the feed's events have it", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Receipts", memberIds: [bob.id, carol.id] });
    const pointers = (members: { id: string; lastReadMessageId: string | null }[]) =>
      Object.fromEntries(members.map((m) => [m.id, m.lastReadMessageId]));
    expect(pointers(group.members)).toEqual({ [alice.id]: null, [bob.id]: null, [carol.id]: null });
    const m1 = await send(alice, group.id, "one");
    const m2 = await send(alice, group.id, "two");
    await bob.api.conversation.markRead.mutate({ conversationId: group.id, messageId: m1.id });
    const expected = { [alice.id]: m2.id, [bob.id]: m1.id, [carol.id]: null };
    // Everyone sees everyone's, whoever asks, through get and list alike.
    for (const viewer of [alice, carol]) {
      expect(pointers((await viewer.api.conversation.get.query({ conversationId: group.id })).members)).toEqual(expected);
      expect(pointers((await viewer.api.conversation.list.query()).find((c) => c.id === group.id)!.members)).toEqual(expected);
    }
    // A member added later joins having read what came before; the event that adds them says so.
    const dave = await signUpAndLogIn(server());
    const received = await subscribe(server(), carol);
    await bob.api.conversation.addMembers.mutate({ conversationId: group.id, userIds: [dave.id] });
    const update = (await received.waitFor(1))[0]?.event;
    expect(update?.type === "conversation.updated" && pointers(update.conversation.members)).toEqual({ ...expected, [dave.id]: m2.id });
  });
});

describe("retention", () => {
  it("resuming from below what retention removed is PRECONDITION_FAILED; from the floor on it works", async () => {
    const server = await startTestServer("sqlite");
    cleanups.push(async () => {
      await server.close();
      await server.database.drop();
    });
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const old = await send(alice, id, "old");
    const kept = await send(alice, id, "kept");
    // Everything up to now is older than the cut, but the newest event always stays (ids go on from it).
    const floor = await server.services.db.events.prune(new Date(Date.now() + 60_000));
    expect(floor).toBe(BigInt(old.id));
    const after = await send(alice, id, "after");
    expect(BigInt(after.id)).toBeGreaterThan(BigInt(kept.id));

    const tooOld = collectSync(live(server, bob), (BigInt(old.id) - 1n).toString());
    await expect.poll(() => tooOld.errors.length, { timeout: 5_000 }).toBe(1);
    expect(tooOld.errors[0]).toMatchObject({ data: { code: "PRECONDITION_FAILED" } });
    const fromFloor = collectSync(live(server, bob), old.id);
    expect((await fromFloor.waitFor(2)).map((e) => e.id)).toEqual([kept.id, after.id]);
    // Messages stay: history has them, and the v1 stream still replays them (by membership now).
    expect((await bob.api.message.list.query({ conversationId: id })).items.map((m) => m.content)).toEqual(["old", "kept", "after"]);
    const v1 = collectLive(live(server, bob), (BigInt(old.id) - 1n).toString());
    expect((await v1.waitFor(3)).map((m) => m.content)).toEqual(["old", "kept", "after"]);
  });
});

import { expect, it } from "vitest";
import { MEMBERS_IN_LIST } from "@parley/api/schemas";
import { describeEachProvider, errorCodeOf, httpClient, signUpAndLogIn, suiteServer } from "./harness.js";
import { seedUsers } from "./seed.js";

describeEachProvider("conversations", (provider) => {
  const server = suiteServer(provider);
  const countConversations = () => server().services.db.prisma.conversation.count();

  it("one other user and no title make a direct conversation with both as members", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const convo = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    expect(convo).toEqual({
      id: expect.any(String),
      title: null,
      isDirect: true,
      members: expect.arrayContaining([
        { id: alice.id, username: alice.username, fullName: `Full ${alice.username}`, role: "member", lastReadMessageId: null },
        { id: bob.id, username: bob.username, fullName: `Full ${bob.username}`, role: "member", lastReadMessageId: null },
      ]),
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
      memberCount: 2,
      lastMessage: null,
      lastReadMessageId: null,
      unreadCount: 0,
      mentionCount: 0,
      // v2 (issue 13): the caller's notification level.
      notify: "all",
    });
    expect(convo.members).toHaveLength(2);
  });

  it("creating a direct conversation that exists returns the same one, whoever creates it", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const first = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const again = await alice.api.conversation.create.mutate({ memberIds: [bob.id, bob.id, alice.id] });
    const fromBob = await bob.api.conversation.create.mutate({ memberIds: [alice.id] });
    expect(again.id).toBe(first.id);
    expect(fromBob.id).toBe(first.id);
  });

  it("two people creating their direct conversation at the same moment get one conversation", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const before = await countConversations();
    const results = await Promise.all([
      alice.api.conversation.create.mutate({ memberIds: [bob.id] }),
      bob.api.conversation.create.mutate({ memberIds: [alice.id] }),
      alice.api.conversation.create.mutate({ memberIds: [bob.id] }),
      bob.api.conversation.create.mutate({ memberIds: [alice.id] }),
    ]);
    expect(new Set(results.map((c) => c.id)).size).toBe(1);
    expect(await countConversations()).toBe(before + 1);
  });

  it("a title makes a group even with one other member, and several members make a group", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const titled = await alice.api.conversation.create.mutate({ title: "Planning", memberIds: [bob.id] });
    expect(titled).toMatchObject({ title: "Planning", isDirect: false });
    const group = await alice.api.conversation.create.mutate({ memberIds: [bob.id, carol.id] });
    expect(group.isDirect).toBe(false);
    expect(group.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    const secondGroup = await alice.api.conversation.create.mutate({ memberIds: [bob.id, carol.id] });
    expect(secondGroup.id).not.toBe(group.id);
  });

  it("duplicates and the caller's own id in memberIds are ignored", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Dups", memberIds: [bob.id, bob.id, alice.id, carol.id, carol.id] });
    expect(group.members).toHaveLength(3);
  });

  it("memberIds naming only the caller, or nobody, is BAD_REQUEST and creates nothing", async () => {
    const alice = await signUpAndLogIn(server());
    const before = await countConversations();
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ memberIds: [alice.id] }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ memberIds: [] }))).toBe("BAD_REQUEST");
    expect(await countConversations()).toBe(before);
  });

  it("memberIds naming a user that does not exist is BAD_REQUEST and creates nothing", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const before = await countConversations();
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ memberIds: [bob.id, "no-such-user"] }))).toBe("BAD_REQUEST");
    expect(await countConversations()).toBe(before);
  });

  it("a title longer than 100 characters is BAD_REQUEST", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ title: "t".repeat(101), memberIds: [bob.id] }))).toBe("BAD_REQUEST");
  });

  it("conversation.list returns exactly the caller's conversations, most recent activity first", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const withBob = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const withCarol = await alice.api.conversation.create.mutate({ memberIds: [carol.id] });
    await bob.api.conversation.create.mutate({ memberIds: [carol.id] });
    await alice.api.message.send.mutate({ conversationId: withBob.id, content: "newest activity", clientMessageId: "c1" });
    const list = await alice.api.conversation.list.query();
    expect(list.map((c) => c.id)).toEqual([withBob.id, withCarol.id]);
    expect(await errorCodeOf(httpClient(server()).conversation.list.query())).toBe("UNAUTHORIZED");
  });
});

describeEachProvider("conversation.list pages and conversation.get", (provider) => {
  const server = suiteServer(provider);

  it("every conversation carries memberCount and its newest message as lastMessage (null before any)", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const direct = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    expect(direct).toMatchObject({ memberCount: 2, lastMessage: null });
    await alice.api.message.send.mutate({ conversationId: direct.id, content: "first", clientMessageId: "l1" });
    const newest = await bob.api.message.send.mutate({ conversationId: direct.id, content: "second", clientMessageId: "l2" });
    const [listed] = await alice.api.conversation.list.query();
    expect(listed).toMatchObject({ id: direct.id, memberCount: 2, lastMessage: newest });
    expect(await alice.api.conversation.get.query({ conversationId: direct.id })).toMatchObject({ memberCount: 2, lastMessage: newest });
  });

  it("a group in conversation.list carries its first MEMBERS_IN_LIST members by join order; conversation.get carries all", async () => {
    const alice = await signUpAndLogIn(server());
    const others = await seedUsers(server(), MEMBERS_IN_LIST + 5);
    const group = await alice.api.conversation.create.mutate({ title: "big", memberIds: others.map((u) => u.id) });
    expect(group.members).toHaveLength(MEMBERS_IN_LIST + 6);
    expect(group.memberCount).toBe(MEMBERS_IN_LIST + 6);
    const full = await alice.api.conversation.get.query({ conversationId: group.id });
    expect(full.members).toEqual(group.members);
    const [listed] = await alice.api.conversation.list.query();
    expect(listed?.memberCount).toBe(MEMBERS_IN_LIST + 6);
    expect(listed?.members).toEqual(full.members.slice(0, MEMBERS_IN_LIST));
  });

  it("a direct conversation in conversation.list has both members", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const [listed] = await bob.api.conversation.list.query();
    expect(listed?.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id].sort());
  });

  it("conversation.list pages by cursor and limit, in activity order, every conversation exactly once", async () => {
    const alice = await signUpAndLogIn(server());
    const others = await seedUsers(server(), 7);
    const created = [];
    for (const other of others) created.push(await alice.api.conversation.create.mutate({ memberIds: [other.id] }));
    // Activity moves the third-created to the front.
    const third = created[2];
    if (!third) throw new Error("no conversation");
    await alice.api.message.send.mutate({ conversationId: third.id, content: "bump", clientMessageId: "bump" });
    const all = await alice.api.conversation.list.query();
    expect(all.map((c) => c.id)[0]).toBe(third.id);
    const pages: string[][] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i += 1) {
      const page: { id: string }[] = await alice.api.conversation.list.query({ cursor, limit: 3 });
      pages.push(page.map((c) => c.id));
      const last = page.at(-1);
      if (page.length < 3 || !last) break;
      cursor = last.id;
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(all.map((c) => c.id));
  });

  it("conversation.list after the last conversation is an empty page", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const only = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    expect(await alice.api.conversation.list.query({ cursor: only.id })).toEqual([]);
  });

  it("a cursor that is not one of the caller's conversations is BAD_REQUEST", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const theirs = await bob.api.conversation.create.mutate({ memberIds: [carol.id] });
    expect(await errorCodeOf(alice.api.conversation.list.query({ cursor: theirs.id }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.list.query({ cursor: "no-such-conversation" }))).toBe("BAD_REQUEST");
  });

  it.each([0, 101, 1.5])("conversation.list with limit %s is BAD_REQUEST", async (limit) => {
    const alice = await signUpAndLogIn(server());
    expect(await errorCodeOf(alice.api.conversation.list.query({ limit }))).toBe("BAD_REQUEST");
  });

  it("conversation.get is NOT_FOUND for no such conversation and FORBIDDEN for a non-member", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const theirs = await bob.api.conversation.create.mutate({ memberIds: [carol.id] });
    expect(await errorCodeOf(alice.api.conversation.get.query({ conversationId: "no-such-conversation" }))).toBe("NOT_FOUND");
    expect(await errorCodeOf(alice.api.conversation.get.query({ conversationId: theirs.id }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(httpClient(server()).conversation.get.query({ conversationId: theirs.id }))).toBe("UNAUTHORIZED");
  });
});

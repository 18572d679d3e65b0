import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachProvider, errorCodeOf, httpClient, signUpAndLogIn, startTestServer, type TestServer } from "./harness.js";

describeEachProvider("conversations", (provider) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(provider);
  });
  afterAll(async () => {
    await server.close();
    await server.database.drop();
  });
  const countConversations = () => server.services.db.prisma.conversation.count();

  it("one other user and no title make a direct conversation with both as members", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const convo = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    expect(convo).toEqual({
      id: expect.any(String),
      title: null,
      isDirect: true,
      members: expect.arrayContaining([
        { id: alice.id, username: alice.username, fullName: `Full ${alice.username}` },
        { id: bob.id, username: bob.username, fullName: `Full ${bob.username}` },
      ]),
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
      memberCount: 2,
      lastMessage: null,
    });
    expect(convo.members).toHaveLength(2);
  });

  it("creating a direct conversation that exists returns the same one, whoever creates it", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const first = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const again = await alice.api.conversation.create.mutate({ memberIds: [bob.id, bob.id, alice.id] });
    const fromBob = await bob.api.conversation.create.mutate({ memberIds: [alice.id] });
    expect(again.id).toBe(first.id);
    expect(fromBob.id).toBe(first.id);
  });

  it("two people creating their direct conversation at the same moment get one conversation", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
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
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
    const titled = await alice.api.conversation.create.mutate({ title: "Planning", memberIds: [bob.id] });
    expect(titled).toMatchObject({ title: "Planning", isDirect: false });
    const group = await alice.api.conversation.create.mutate({ memberIds: [bob.id, carol.id] });
    expect(group.isDirect).toBe(false);
    expect(group.members.map((m) => m.id).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    const secondGroup = await alice.api.conversation.create.mutate({ memberIds: [bob.id, carol.id] });
    expect(secondGroup.id).not.toBe(group.id);
  });

  it("duplicates and the caller's own id in memberIds are ignored", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
    const group = await alice.api.conversation.create.mutate({ title: "Dups", memberIds: [bob.id, bob.id, alice.id, carol.id, carol.id] });
    expect(group.members).toHaveLength(3);
  });

  it("memberIds naming only the caller, or nobody, is BAD_REQUEST and creates nothing", async () => {
    const alice = await signUpAndLogIn(server);
    const before = await countConversations();
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ memberIds: [alice.id] }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ memberIds: [] }))).toBe("BAD_REQUEST");
    expect(await countConversations()).toBe(before);
  });

  it("memberIds naming a user that does not exist is BAD_REQUEST and creates nothing", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    const before = await countConversations();
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ memberIds: [bob.id, "no-such-user"] }))).toBe("BAD_REQUEST");
    expect(await countConversations()).toBe(before);
  });

  it("a title longer than 100 characters is BAD_REQUEST", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server)]);
    expect(await errorCodeOf(alice.api.conversation.create.mutate({ title: "t".repeat(101), memberIds: [bob.id] }))).toBe("BAD_REQUEST");
  });

  it("conversation.list returns exactly the caller's conversations, most recent activity first", async () => {
    const [alice, bob, carol] = await Promise.all([signUpAndLogIn(server), signUpAndLogIn(server), signUpAndLogIn(server)]);
    const withBob = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const withCarol = await alice.api.conversation.create.mutate({ memberIds: [carol.id] });
    await bob.api.conversation.create.mutate({ memberIds: [carol.id] });
    await alice.api.message.send.mutate({ conversationId: withBob.id, content: "newest activity", clientMessageId: "c1" });
    const list = await alice.api.conversation.list.query();
    expect(list.map((c) => c.id)).toEqual([withBob.id, withCarol.id]);
    expect(await errorCodeOf(httpClient(server).conversation.list.query())).toBe("UNAUTHORIZED");
  });
});
